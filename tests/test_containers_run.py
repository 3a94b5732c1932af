"""`docker run` as a job: pull on demand, create, start, stream the output, and stop like Ctrl-C."""

import contextlib

import docker.errors
import pytest

from console.audit.models import AuditEvent
from console.jobs.models import Job
from tests.conftest import wait_until
from tests.containers_lab import served
from tests.images_registries import forget_repositories
from tests.lab import HELLO_TEXT


def run(client, **fields):
    data = {"restart_policy": "no", "follow": "on", **fields}
    response = client.post("/engines/local/containers/run/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    job = Job.objects.get(kind="container.run", pk=int(response["Location"].strip("/").split("/")[-1]))
    return job


def finished(job: Job, timeout: float = 120) -> Job:
    wait_until(lambda: Job.objects.get(pk=job.pk).is_finished, timeout=timeout, message="the run job to finish")
    job.refresh_from_db()
    return job


def output_has(job: Job, text: str, timeout: float = 60) -> None:
    wait_until(lambda: text in Job.objects.get(pk=job.pk).output, timeout=timeout, message=repr(text))


@pytest.mark.serial  # forgets and pulls the lab's shared images: another pull of their layers would hide the progress
def test_hello_world_pulls_on_demand_and_shows_its_whole_message(job_runner, lab, operator_client):
    forget_repositories("hello-world")
    name = lab.name("hello")
    job = finished(run(operator_client, image="hello-world", name=name, environment="APP_SECRET=s3cret\nMODE=demo"))
    assert job.state == "succeeded", job.error
    lines = job.output.splitlines()
    assert lines[0] == "Unable to find image 'hello-world:latest' locally"
    assert "latest: Pulling from library/hello-world" in lines
    assert any(line.endswith((": Pull complete", ": Already exists")) for line in lines), job.output
    assert "Status: Downloaded newer image for hello-world:latest" in lines
    assert HELLO_TEXT.strip() in job.output
    assert lines[-1] == f"Container {name} exited with code 0."
    container = lab.get(name)
    assert job.result == {"id": container.id, "name": name, "exit_code": 0}
    assert "APP_SECRET=s3cret" in container.attrs["Config"]["Env"]  # the engine has the real value

    page = operator_client.get(f"/jobs/{job.pk}/").content.decode()
    assert 'id="run-exit-code">0<' in page and "Hello from Docker!" in page and 'id="run-stop"' not in page

    events = list(AuditEvent.objects.filter(job_id=job.pk).order_by("id"))
    assert [(e.action, e.outcome) for e in events] == [("container.run", "requested"), ("container.run", "succeeded")]
    assert events[0].target == "hello-world:latest" and events[1].target_id == container.id
    assert events[0].params["spec"]["name"] == name
    # secrets never stay behind: not in the trail, not in the job row
    assert "s3cret" not in str(events[0].params) and "MODE=demo" in str(events[0].params)
    assert "s3cret" not in str(Job.objects.get(pk=job.pk).params)

    # run again: the image is there now, so no pull
    again = finished(run(operator_client, image="hello-world", auto_remove="on", name=lab.name("again")))
    assert again.state == "succeeded" and "Unable to find image" not in again.output
    assert "Hello from Docker!" in again.output and again.result["exit_code"] == 0
    assert not lab.exists(again.result["id"])  # --rm


def test_httpd_keeps_running_its_lines_arrive_live_and_stop_ends_it(job_runner, lab, operator_client):
    lab.pull("httpd", "2.4")
    name = lab.name("httpd")
    job = run(operator_client, image="httpd:2.4", name=name, ports="80")
    output_has(job, "httpd 2.4: serving /www on port 80")
    container = lab.get(name)
    assert container.status == "running"
    bindings = container.attrs["HostConfig"]["PortBindings"]["80/tcp"]
    assert [b["HostIp"] for b in bindings] == ["127.0.0.1"]  # published on 127.0.0.1 only

    served(container)
    output_has(job, "response:200")  # busybox httpd logs each request to stderr, live
    assert Job.objects.get(pk=job.pk).state == "running"

    page = operator_client.get(f"/jobs/{job.pk}/").content.decode()
    assert 'id="run-stop"' in page
    response = operator_client.post(
        f"/engines/local/containers/{container.id}/stop/", {"grace": "1", "next": f"/jobs/{job.pk}/"}
    )
    assert response["Location"] == f"/jobs/{job.pk}/"
    job = finished(job)
    assert job.state == "succeeded", job.error
    assert job.result["exit_code"] in (137, 143)  # SIGTERM, then SIGKILL after the grace time
    assert job.output.splitlines()[-1] == f"Container {name} exited with code {job.result['exit_code']}."
    assert lab.get(name).status == "exited"


def test_cancel_stops_following_and_leaves_the_container_running(job_runner, lab, operator_client):
    lab.pull("httpd", "2.4")
    name = lab.name("detach")
    job = run(operator_client, image="httpd:2.4", name=name)
    output_has(job, "serving /www")
    operator_client.post(f"/jobs/{job.pk}/cancel/")
    job = finished(job, timeout=30)
    assert job.state == "succeeded" and job.result["detached"] is True
    assert "Stopped following; the container keeps running." in job.output
    assert lab.get(name).status == "running"


def test_a_run_without_following_starts_it_and_ends(job_runner, lab, operator_client):
    lab.pull("httpd", "2.4")
    name = lab.name("bg")
    job = finished(run(operator_client, image="httpd:2.4", name=name, follow="", restart_policy="unless-stopped"))
    container = lab.get(name)
    assert job.state == "succeeded" and job.output.splitlines()[-1] == container.id
    assert container.status == "running"
    assert container.attrs["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"


def test_a_missing_image_or_a_failing_start_fails_the_job_with_the_reason(job_runner, lab, operator_client, registry):
    job = finished(run(operator_client, image=f"{registry}/library/nope:1", name=lab.name("nope")))
    assert job.state == "failed" and "was not found" in job.error
    lab.pull("httpd", "2.4")
    name = lab.name("badcmd")
    job = finished(run(operator_client, image="httpd:2.4", name=name, command="/no/such/program"))
    assert job.state == "failed" and "no such file or directory" in job.error.lower()
    assert AuditEvent.objects.filter(job_id=job.pk, outcome="failed").count() == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"image": ""}, "This field is required"),
        ({"image": "Not A Ref"}, "contains a space"),
        ({"image": "httpd", "name": "bad name!"}, "A name is letters"),
        ({"image": "httpd", "command": "echo 'open"}, "cannot be split"),
        ({"image": "httpd", "environment": "NOEQUALS"}, "NAME=value"),
        ({"image": "httpd", "ports": "99999:80"}, "is not a port number"),
        ({"image": "httpd", "ports": "localhost:80:80"}, "is not an IP address"),
        ({"image": "httpd", "volumes": "data:relative/path"}, "absolute path"),
        ({"image": "httpd", "auto_remove": "on", "restart_policy": "always"}, "cannot be combined"),
    ],
)
def test_bad_input_is_said_on_the_form_and_nothing_is_queued(operator_client, fields, message):
    response = operator_client.post("/engines/local/containers/run/", {"restart_policy": "no", **fields})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Job.objects.exists()


def test_the_form_offers_dangerous_options_to_admins_only(operator_client, admin_client, viewer_client):
    page = operator_client.get("/engines/local/containers/run/?image=httpd:2.4").content.decode()
    assert 'value="httpd:2.4"' in page and 'name="privileged"' not in page and 'name="binds"' not in page
    page = admin_client.get("/engines/local/containers/run/").content.decode()
    for field in ("privileged", "binds", "mounts", "network_mode", "pid_mode", "cap_add", "devices", "sysctls"):
        assert f'name="{field}"' in page
    assert viewer_client.get("/engines/local/containers/run/").status_code == 403


def test_a_run_joins_a_pull_of_its_image_already_running(job_runner, lab, operator_client):
    with contextlib.suppress(docker.errors.ImageNotFound):
        lab.client.images.remove("httpd:2.2", force=True)
    # A pull of the same reference is under way (its row, as the image pull job keeps it).
    layers = {
        "layers": [{"id": "abc123", "status": "Downloading", "current": 5, "total": 10}],
        "current": 5,
        "total": 10,
    }
    pull = Job.objects.create(
        kind="image.pull",
        engine="local",
        target="httpd:2.2",
        requested_by_name="vera",
        state="running",
        progress=layers,
    )
    name = lab.name("joined")
    job = run(operator_client, image="httpd:2.2", name=name, follow="")
    output_has(job, f"Joining the pull of httpd:2.2 already running (job {pull.pk})")
    wait_until(lambda: Job.objects.get(pk=job.pk).progress == layers, message="the pull's progress, shared")
    assert not lab.exists(name)  # it waits for the pull

    lab.pull("httpd", "2.2")
    Job.objects.filter(pk=pull.pk).update(state="succeeded", result={"status": "Downloaded newer image for httpd:2.2"})
    job = finished(job)
    assert job.state == "succeeded", job.error
    assert "Status: Downloaded newer image for httpd:2.2" in job.output
    assert lab.get(name).status == "running"
