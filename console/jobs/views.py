from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseStopPolling

from console.accounts.roles import OPERATOR, role_required
from console.htmx import htmx_partial
from console.jobs.models import Job
from console.jobs.runner import cancel, reap_lost_jobs


def job_list(request: HttpRequest) -> HttpResponse:
    reap_lost_jobs()
    jobs = Job.objects.all()
    state = request.GET.get("state", "")
    if state in Job.State.values:
        jobs = jobs.filter(state=state)
    kind = request.GET.get("kind", "")
    if kind:
        jobs = jobs.filter(kind=kind)
    ctx = {"jobs": jobs[:200], "states": Job.State.values, "state": state, "kind": kind}
    template = "jobs/list.html#rows" if htmx_partial(request) else "jobs/list.html"
    return render(request, template, ctx)


def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    reap_lost_jobs()
    job = get_object_or_404(Job, pk=job_id)
    if htmx_partial(request):
        # A poll names the revision it has; an unchanged job costs one indexed lookup.
        seen = request.GET.get("rev", "")
        if seen == str(job.revision) and not job.is_finished:
            return HttpResponse(status=204)
        response = render(request, "jobs/detail.html#live", {"job": job})
        if job.is_finished:
            response.status_code = HttpResponseStopPolling.status_code
        return response
    return render(request, "jobs/detail.html", {"job": job})


@require_POST
@role_required(OPERATOR, "job.cancel")
def job_cancel(request: HttpRequest, job_id: int) -> HttpResponse:
    job = get_object_or_404(Job, pk=job_id)
    if cancel(request, job):
        messages.info(request, "Cancelling the job.")
    else:
        messages.warning(request, "The job had already finished.")
    return redirect("job_detail", job_id=job.pk)
