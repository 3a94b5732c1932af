from console.images.pulling import KIND, pull_image
from console.jobs.runner import JobContext, job_kind


@job_kind(KIND)
def pull(ctx: JobContext) -> dict:
    return pull_image(ctx, ctx.params["reference"])
