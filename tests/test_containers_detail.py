"""One container's page: state, configuration, environment (secrets masked), stats and processes."""

import json
import re

from django.utils.html import escape

ENV = {"DB_PASSWORD": "hunter2-pw", "API_TOKEN": "tok-123", "AWS_SECRET_ACCESS_KEY": "aws-xyz", "GREETING": "hello-all"}


def test_it_shows_state_configuration_ports_networks_mounts_and_labels(lab, viewer_client):
    volume = lab.name("vol")
    up = lab.httpd(
        labels={"team": "ops", "tier": "web"},
        volumes={volume: {"bind": "/data", "mode": "rw"}},
        restart_policy={"Name": "on-failure", "MaximumRetryCount": 3},
    )
    try:
        page = viewer_client.get(f"/engines/local/containers/{up.name}/").content.decode()
        assert f"<h1>{up.name} " in page and up.id[:12] in page
        assert '<span class="state-running">running</span>' in page
        assert f'href="/engines/local/images/{up.image.id}/"' in page  # the image, linked
        assert escape(up.attrs["Args"][1]) in page  # the command
        assert 'id="restart-policy">on-failure:3<' in page
        port = up.ports["80/tcp"][0]["HostPort"]
        assert f"<td>80/tcp</td><td>127.0.0.1:{port}</td>" in page
        ip = up.attrs["NetworkSettings"]["Networks"]["bridge"]["IPAddress"]
        assert f"<td>bridge</td><td>{ip}</td>" in page
        assert f"<td>volume</td><td>{volume}</td><td><code>/data</code></td><td>rw</td>" in page
        assert "<td><code>team</code></td><td>ops</td>" in page
        assert 'id="stats"' in page and 'id="top"' in page  # loaded once the page is open
    finally:
        up.remove(force=True)
        lab.client.volumes.get(volume).remove()


def test_it_shows_the_exit_code_and_times_of_an_exited_container(lab, viewer_client):
    exited = lab.hello(command=["/bin/busybox", "sh", "-c", "exit 3"])
    page = viewer_client.get(f"/engines/local/containers/{exited.id}/").content.decode()
    assert 'id="exit-code">3<' in page
    assert "<dt>Finished</dt>" in page
    assert 'id="stats"' not in page  # no stats for a container that is not running


def test_an_unknown_container_is_a_404(viewer_client):
    response = viewer_client.get("/engines/local/containers/no-such-container-here/")
    assert response.status_code == 404


def test_secret_looking_environment_values_are_masked_for_everyone_but_admins(
    lab,
    viewer_client,
    operator_client,
    admin_client,
):
    up = lab.httpd(environment=ENV)
    for client in (viewer_client, operator_client):
        page = client.get(f"/engines/local/containers/{up.id}/").content.decode()
        for secret in ("hunter2-pw", "tok-123", "aws-xyz"):
            assert secret not in page
        assert "<code>DB_PASSWORD</code>" in page and "hello-all" in page
    page = admin_client.get(f"/engines/local/containers/{up.id}/").content.decode()
    for value in ENV.values():
        assert value in page


def test_live_stats_show_cpu_memory_and_io_and_keep_a_short_history(lab, viewer_client):
    up = lab.httpd()
    first = viewer_client.get(
        f"/engines/local/containers/{up.id}/stats/", headers={"HX-Request": "true"}
    ).content.decode()
    assert 'hx-trigger="every 2s"' in first
    assert re.search(r'id="stat-memory">[\d.]+(B|KiB|MiB|GiB)<', first)
    assert 'id="stat-net"' in first and 'id="stat-block"' in first and 'id="stat-pids">1<' in first
    assert 'id="stat-cpu">…<' in first  # CPU % needs a second sample
    vals = json.loads(re.search(r'hx-vals="([^"]+)"', first).group(1).replace("&quot;", '"'))
    second = viewer_client.get(
        f"/engines/local/containers/{up.id}/stats/", vals, headers={"HX-Request": "true"}
    ).content.decode()
    assert re.search(r'id="stat-cpu">[\d.]+%<', second)
    assert re.search(r'<polyline points="[\d.]+,[\d.]+"', second)  # a chart from the samples so far
    garbage = viewer_client.get(f"/engines/local/containers/{up.id}/stats/", {"cpu": "x", "hcpu": "1e999,-3,<b>"})
    assert garbage.status_code == 200 and "<b>" not in garbage.content.decode()

    up.stop(timeout=0)
    stopped = viewer_client.get(f"/engines/local/containers/{up.id}/stats/").content.decode()
    assert "Not running." in stopped and "hx-trigger" not in stopped  # polling ends


def test_it_lists_the_processes_of_a_running_container(lab, viewer_client):
    up = lab.httpd()
    page = viewer_client.get(f"/engines/local/containers/{up.id}/top/").content.decode()
    assert "<th>PID</th>" in page and "httpd -f -v -p 80 -h /www" in page
    up.stop(timeout=0)
    page = viewer_client.get(f"/engines/local/containers/{up.id}/top/").content.decode()
    assert "is not running" in page
