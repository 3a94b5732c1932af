"""Who ran this container? (issue #20): a run's outcome event names the container, links to it while it
exists, and filtering the trail by the container's name finds its run."""

from django.urls import reverse

from console.audit.models import AuditEvent
from console.jobs.models import Job
from tests.conftest import wait_until


def test_a_runs_event_names_the_container_and_links_to_it_only_while_it_exists(job_runner, lab, operator_client):
    lab.pull("httpd", "2.4")
    name = lab.name("who-ran")
    data = {"image": "httpd:2.4", "name": name, "restart_policy": "no"}
    response = operator_client.post(reverse("container_run", args=["local"]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    job = Job.objects.get(kind="container.run")
    wait_until(lambda: Job.objects.get(pk=job.pk).is_finished, message="the run job to finish")
    container = lab.get(name)

    run = AuditEvent.objects.get(action="container.run", outcome="succeeded")
    assert (run.target, run.target_id, run.params["image"]) == (name, container.id, "httpd:2.4")

    found = operator_client.get(reverse("audit_list"), {"target": name}).content.decode()
    assert "container.run" in found and "succeeded" in found
    detail = reverse("container_detail", args=["local", container.id])
    assert f'<a href="{detail}" class="target">{name}</a>' in found
    assert reverse("container_detail", args=["local", "httpd:2.4"]) not in found  # never a link by image

    container.remove(force=True)
    gone = operator_client.get(reverse("audit_list"), {"target": name}).content.decode()
    assert "container.run" in gone and detail not in gone  # a removed container is named, not linked
