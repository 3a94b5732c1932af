from console import engine
from console.jobs.kinds import job_kind
from console.jobs.runner import JobContext
from console.system.disk import KIND


@job_kind(KIND)
def disk_usage(ctx: JobContext) -> dict:
    ctx.log("Asking the engine for its disk use (docker system df)…")
    usage = engine.disk_usage()
    ctx.log("Done.")
    return usage
