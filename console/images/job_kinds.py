from console.images.pulling import KIND, pull_image
from console.jobs.runner import JobContext, job_kind


@job_kind(KIND)
def pull(ctx: JobContext) -> dict:
    # join_or_enqueue_pull, the only way to this kind, applied the registry rule before queueing.
    return pull_image(ctx, ctx.params["reference"], vetted=True)
