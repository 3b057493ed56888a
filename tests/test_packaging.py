"""The built wheel carries what the app needs at run time (themes, the scaffold), read through
importlib.resources: installed in a fresh virtual environment, the app opens with its themes."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import textwrap
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

APP_CHECK = textwrap.dedent(
    """
    import asyncio, sys, workbench
    from pathlib import Path
    from workbench.settings import Settings
    from workbench.tui.app import make_app

    assert "site-packages" in workbench.__file__, workbench.__file__  # the wheel, not the checkout

    async def main():
        home = Path(sys.argv[1])
        app = make_app(Settings(home=home / "data", config_home=home / "config", runtime="process"), "acme")
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            print(app.theme, sorted(t for t in app.available_themes if t.startswith("workbench")))

    asyncio.run(main())
    """
)


def test_an_installed_wheel_opens_the_app_with_the_workbench_themes(tmp_path: Path) -> None:
    source = tmp_path / "source"  # a clean copy: no build/ left over from an earlier build
    shutil.copytree(ROOT, source, symlinks=True, ignore=shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "tests", "bench"))
    dist = tmp_path / "dist"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(source)], capture_output=True, text=True)
    assert built.returncode == 0, built.stdout + built.stderr
    [wheel] = dist.glob("tool_workbench-*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    # the wheel itself, and its dependencies from this environment (no network needed)
    target = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], capture_output=True, text=True, check=True).stdout.strip()
    (Path(target) / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)], capture_output=True, text=True)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    opened = subprocess.run([str(python), "-c", APP_CHECK, str(tmp_path)], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert opened.returncode == 0, opened.stdout + opened.stderr
    assert opened.stdout.split()[0] == "workbench-dark"
    assert "'workbench-high-contrast'" in opened.stdout and "'workbench-light'" in opened.stdout
