"""Every job kind is known to every console process from its start, whatever it imported first."""

import re

import pytest

from tests.console_process import ConsoleProcess


@pytest.fixture
def fresh_console():
    # A real web process on its own database: nothing has been queued, so only registered kinds can be listed.
    console = ConsoleProcess(watcher=False, worker=False, web_workers=1).start()
    yield console
    console.stop()


def test_the_kind_filter_of_a_fresh_web_process_lists_every_kind(fresh_console):
    page = fresh_console.session().get(f"{fresh_console.url}/jobs/", timeout=10).text
    select = re.search(r'<select name="kind">(.*?)</select>', page, re.S).group(1)
    kinds = re.findall(r'<option value="([^"]+)"', select)
    expected = ["container.exec", "container.run", "container.update", "image.pull", "image.update_check", "system.df"]
    assert kinds == expected
