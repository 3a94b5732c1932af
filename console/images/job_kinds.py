from console.images import updates
from console.images.pulling import KIND, pull_image
from console.jobs.kinds import job_kind
from console.jobs.runner import JobContext


@job_kind(KIND, progress="images/_pull_progress.html", row="images/_pull_row.html")
def pull(ctx: JobContext) -> dict:
    # join_or_enqueue_pull, the only way to this kind, applied the registry rule before queueing.
    return pull_image(ctx, ctx.params["reference"], vetted=True)


@job_kind(updates.KIND)
def update_check(ctx: JobContext) -> dict:
    return updates.check_updates(ctx.log)
