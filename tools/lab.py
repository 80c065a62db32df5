"""Open JupyterLab on the course map, quiet and offline (``make lab``).

JupyterLab starts with the configuration the course ships in ``jupyter-config/``:

- ``jupyter_config.json`` (found through ``JUPYTER_CONFIG_PATH``): kernels get CurveZMQ keys
  (no "running over TCP without encryption" warning), the server fetches no news
  (``LabApp.news_url = None``), never checks for updates (``NeverCheckForUpdate``), and its
  websocket ping timeout is the ping interval, the most tornado accepts (no warning when the
  first notebook connects);
- ``lab-settings/overrides.json`` (``LabApp.app_settings_dir``): the settings' defaults say
  "never fetch news" and "do not check for updates", so a first start asks nothing, and a
  Markdown file opens rendered.

It opens ``README.md``, whose course map links every lesson, and prints one short block
with the address and how to stop the server; the server's own log is kept to warnings.
A learner's own settings (``~/.jupyter``) still win over these defaults.

Usage: ``python -m tools.lab [--port N] [--no-browser]``.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from jupyter_server.serverapp import list_running_servers

from tools.execute import JUPYTER_CONFIG_DIR

ROOT = Path(__file__).resolve().parent.parent
#: The page the lab opens on: the README, whose course map links every lesson.
COURSE_MAP = "README.md"
#: Seconds to wait for the server to start before giving up.
START_TIMEOUT = 120


def lab_command(port: int, open_browser: bool) -> list[str]:
    """The ``jupyter lab`` command line (the token travels in the environment, not here)."""
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={ROOT}",
        f"--ServerApp.port={port}",
        f"--LabApp.app_settings_dir={JUPYTER_CONFIG_DIR / 'lab-settings'}",
        "--ServerApp.log_level=WARN",
        "--LabApp.log_level=WARN",
        # One Ctrl+C stops the server (no "Shutdown this Jupyter server (y/[n])?" prompt).
        "--ServerApp.answer_yes=True",
    ]
    if not open_browser:
        command.append("--no-browser")
    # Classroom containers often run as root, which JupyterLab refuses without this flag.
    if getattr(os, "geteuid", lambda: None)() == 0:
        command.append("--allow-root")
    return command + [COURSE_MAP]


def lab_environment(token: str) -> dict[str, str]:
    """This process's environment, with the course's Jupyter configuration and the token.

    The token goes through ``JUPYTER_TOKEN`` (readable only by this user), never through
    the command line that every user of the machine can list.
    """
    environment = dict(os.environ, JUPYTER_TOKEN=token)
    config_path = [str(JUPYTER_CONFIG_DIR)]
    if environment.get("JUPYTER_CONFIG_PATH"):
        config_path.append(environment["JUPYTER_CONFIG_PATH"])
    environment["JUPYTER_CONFIG_PATH"] = os.pathsep.join(config_path)
    return environment


def course_url(server: dict) -> str:
    """The address of the course map on a running server (from its ``jpserver-*.json``)."""
    return f"{server['url'].rstrip('/')}/lab/tree/{COURSE_MAP}?token={server['token']}"


def banner(url: str) -> str:
    """The block ``make lab`` prints once the server answers."""
    return "\n".join(
        [
            "",
            "JupyterLab is running on the course map:",
            f"    {url}",
            "Stop it with Ctrl+C in this terminal.",
            "",
        ]
    )


def answers(server: dict) -> bool:
    """Whether the server accepts requests (it writes its information file before it listens)."""
    status = f"{server['url'].rstrip('/')}/api/status?token={server['token']}"
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
    try:
        with direct.open(status, timeout=5):
            return True
    except OSError:
        return False


def wait_for_server(process: subprocess.Popen, timeout: float = START_TIMEOUT) -> dict | None:
    """The running server's information once it answers, or ``None`` if it did not start."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        for server in list_running_servers():
            if server.get("pid") == process.pid and answers(server):
                return server
        time.sleep(0.2)
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8888, help="first port to try (8888)")
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser")
    args = parser.parse_args(argv)

    command = lab_command(args.port, open_browser=not args.no_browser)
    process = subprocess.Popen(command, cwd=ROOT, env=lab_environment(secrets.token_hex(24)))
    try:
        server = wait_for_server(process)
        if server is None:
            if process.poll() is None:
                process.terminate()
            print(
                f"JupyterLab did not start within {START_TIMEOUT} s; its messages are above.",
                file=sys.stderr,
            )
            return process.wait() or 1
        print(banner(course_url(server)), flush=True)
        return process.wait()
    except KeyboardInterrupt:  # Ctrl+C reaches the server too, which shuts down
        return process.wait()


if __name__ == "__main__":
    sys.exit(main())
