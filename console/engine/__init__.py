"""The only code that talks to the Docker Engine.

Views, tasks and the watcher call `engine.<function>` and get plain values back;
`docker.errors.*` become `EngineError`s with a message a person can act on.
Each area keeps its calls in its own module; this package's face is the names below.
"""

from console.engine.container_logs import log_download, read_logs
from console.engine.container_run import Attachment, create_container, exec_command, image_present, volume_host_path
from console.engine.containers import (
    RUNNING_STATES,
    ContainerDetail,
    ContainerRow,
    StatsSample,
    container_rows,
    container_stats,
    container_top,
    inspect_container,
    kill_container,
    list_containers,
    pause_container,
    remove_container,
    rename_container,
    restart_container,
    start_container,
    stop_container,
    unpause_container,
)
from console.engine.core import Conflict, EngineError, EngineUnreachable, NotFound, reset_client
from console.engine.events import EventRow, EventStream, event_row, event_since, recent_events
from console.engine.images import (
    ImageDetail,
    ImageRow,
    ImageUser,
    image_detail,
    image_id,
    image_rows,
    list_images,
    prune_images,
    pull_stream,
    registry_config,
    remove_image,
    tag_image,
)
from console.engine.system import api_version, disk_usage, ping, raw_listing, sdk_version

__all__ = [
    "RUNNING_STATES",
    "Attachment",
    "Conflict",
    "ContainerDetail",
    "ContainerRow",
    "EngineError",
    "EngineUnreachable",
    "EventRow",
    "EventStream",
    "ImageDetail",
    "ImageRow",
    "ImageUser",
    "NotFound",
    "StatsSample",
    "api_version",
    "container_rows",
    "container_stats",
    "container_top",
    "create_container",
    "disk_usage",
    "event_row",
    "event_since",
    "exec_command",
    "image_detail",
    "image_id",
    "image_present",
    "image_rows",
    "inspect_container",
    "kill_container",
    "list_containers",
    "list_images",
    "log_download",
    "pause_container",
    "ping",
    "prune_images",
    "pull_stream",
    "raw_listing",
    "read_logs",
    "recent_events",
    "registry_config",
    "remove_container",
    "remove_image",
    "rename_container",
    "reset_client",
    "restart_container",
    "sdk_version",
    "start_container",
    "stop_container",
    "tag_image",
    "unpause_container",
    "volume_host_path",
]
