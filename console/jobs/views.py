import time
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseStopPolling

from console.accounts.roles import ADMIN, OPERATOR, can_see_engine, deny, has_role, highest_role, visible_engines
from console.engine.core import enter
from console.htmx import htmx_partial
from console.jobs import kinds
from console.jobs.models import Job
from console.jobs.runner import cancel
from console.listing import window
from console.live import jobs_token, token, unchanged

SETTLING = timedelta(seconds=2)  # how young a job is waited for when its page is drawn
UNTAKEN = 0.05  # seconds: a job still queued this long after its page was asked for is not waited for


def job_list(request: HttpRequest) -> HttpResponse:
    """The team's queue on every engine the user can see, filtered by engine, state, kind and who asked."""
    state = request.GET.get("state", "")
    kind = request.GET.get("kind", "")
    asked_by = request.GET.get("user", "")
    engines = [row.name for row in visible_engines(request.user)]
    on = request.GET.get("engine", "")
    live = token(None, jobs_token(), state, kind, asked_by, on)
    if htmx_partial(request) and unchanged(request, live):
        return HttpResponse(status=204)
    jobs = Job.objects.filter(engine__in=[on] if on in engines else engines)
    if state in Job.State.values:
        jobs = jobs.filter(state=state)
    if kind:
        jobs = jobs.filter(kind=kind)
    if asked_by:
        jobs = jobs.filter(requested_by_name=asked_by)
    ctx = {
        "window": window(jobs.defer("output")),
        "states": Job.State.values,
        "kinds": sorted(set(kinds.KINDS) | set(Job.objects.values_list("kind", flat=True).distinct())),
        "users": sorted(set(Job.objects.values_list("requested_by_name", flat=True).distinct())),
        "state": state,
        "kind": kind,
        "engine_names": engines,
        "on": on,
        "asked_by": asked_by,
        "live_token": live,
    }
    template = "jobs/list.html#rows" if htmx_partial(request) else "jobs/list.html"
    return render(request, template, ctx)


def _job_for(request: HttpRequest, job_id: int) -> Job:
    """The job, when the user can see its engine (404 alike otherwise); its engine is the page's engine."""
    job = get_object_or_404(Job, pk=job_id)
    if not can_see_engine(request.user, job.engine):
        raise Http404("No such job.")
    enter(job.engine)
    return job


def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job_for(request, job_id)
    if htmx_partial(request):
        # A poll names the revision it has (and how often it polls); an unchanged job costs one indexed lookup.
        seen = request.GET.get("rev", "") == str(job.revision) and request.GET.get("every") == job.poll_every
        if seen and job.state == Job.State.QUEUED:
            return HttpResponse(status=204)
        if seen and not job.is_finished:
            # Nothing new but the clock: only the status line (its duration) is swapped, out of band.
            response = render(request, "jobs/detail.html#status", {"job": job, "oob": True})
            response["HX-Reswap"] = "none"
            return response
        response = render(request, "jobs/detail.html#live", {"job": job})
        if job.is_finished:
            response.status_code = HttpResponseStopPolling.status_code
        return response
    return render(request, "jobs/detail.html", {"job": _settled(job)})


def _settled(job: Job) -> Job:
    """A job asked for a moment ago is waited for, up to JOB_PAGE_WAIT_MS, before its page is drawn: many end
    within it (a pull of an image the engine has, a quick run: tens of milliseconds), and their page then shows
    how they ended instead of its first poll finding that out a poll's pace later. A job no worker has taken
    within UNTAKEN is not waited for (the workers are busy or down); a longer job's first page comes up to
    JOB_PAGE_WAIT_MS later, and its polls follow it as before."""
    if job.is_finished or timezone.now() - job.created > SETTLING:
        return job
    started = time.monotonic()
    while (waited := time.monotonic() - started) < settings.JOB_PAGE_WAIT_MS / 1000:
        state = Job.objects.filter(pk=job.pk).values_list("state", flat=True).first()
        if state in Job.TERMINAL:
            job.refresh_from_db()
            break
        if state == Job.State.QUEUED and waited >= UNTAKEN:
            break
        time.sleep(0.01)
    return job
    until = time.monotonic() + settings.JOB_PAGE_WAIT_MS / 1000
    while time.monotonic() < until:
        time.sleep(0.01)
        if Job.objects.filter(pk=job.pk, state__in=Job.TERMINAL).exists():
            job.refresh_from_db()
            break
    return job


@require_POST
def job_cancel(request: HttpRequest, job_id: int) -> HttpResponse:
    if highest_role(request.user) not in (OPERATOR, ADMIN):  # an Operator nowhere cancels nothing
        return deny(request, OPERATOR, "job.cancel", str(job_id))
    job = _job_for(request, job_id)
    if not has_role(request.user, OPERATOR):  # on the job's engine
        return deny(request, OPERATOR, "job.cancel", str(job_id))
    if cancel(request, job):
        messages.info(request, f"Cancelling job {job.pk}.")
    else:
        messages.warning(request, f"Job {job.pk} had already finished.")
    if request.POST.get("back") == "list":
        return redirect("job_list")
    return redirect("job_detail", job_id=job.pk)


job_cancel.required_role = OPERATOR  # checked on the job's engine, once the job is found
