"""The only code that talks to the Docker Engine.

Views, tasks and the watcher call `engine.<function>` and get plain values back;
`docker.errors.*` become `EngineError`s with a message a person can act on.
Each area keeps its calls in its own module; this package exports them all.
"""

from console.engine.container_logs import *  # noqa: F403
from console.engine.container_run import *  # noqa: F403
from console.engine.containers import *  # noqa: F403
from console.engine.core import *  # noqa: F403
from console.engine.core import reset_client  # noqa: F401
from console.engine.events import *  # noqa: F403
from console.engine.images import *  # noqa: F403
from console.engine.system import *  # noqa: F403
