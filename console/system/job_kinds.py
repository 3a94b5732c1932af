from console import engine
from console.jobs.runner import JobContext, job_kind


@job_kind("system.df")
def disk_usage(ctx: JobContext) -> dict:
    ctx.log("Asking the engine for its disk use (docker system df)…")
    usage = engine.disk_usage()
    ctx.log("Done.")
    return usage
