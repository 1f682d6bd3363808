"""compose.yaml holds the shape of a production run without a container engine to try it here:
PostgreSQL and Redis with health checks, the migration run once before anything else, two web
processes behind one published port, two workers; every command is one the CLI knows, every
RDV_ variable one the settings read, and secrets come from the environment, never the file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from rdv_spie import cli
from rdv_spie.settings import Settings

COMPOSE = Path(__file__).resolve().parents[2] / "compose.yaml"


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    found: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]
    return found


def _known(command: list[str]) -> bool:
    """The CLI accepts the command: its --help exits 0 (an unknown one exits 2)."""
    assert command[0] == "rdv-spie"
    with pytest.raises(SystemExit) as done:
        cli.main([*command[1:], "--help"])
    return done.value.code == 0


def test_the_shape(services: dict[str, Any]) -> None:
    web = sorted(n for n, s in services.items() if s.get("command") == ["rdv-spie", "serve"])
    workers = sorted(n for n, s in services.items() if s.get("command") == ["rdv-spie", "worker"])
    assert web == ["web-1", "web-2"] and workers == ["worker-1", "worker-2"]
    assert services["migrate"]["command"] == ["rdv-spie", "db", "upgrade"]
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in web + workers:
        needs = services[name]["depends_on"]
        assert needs["migrate"]["condition"] == "service_completed_successfully", name
        assert needs["redis"]["condition"] == "service_healthy", name
        assert "ports" not in services[name], f"{name} is reached through the proxy only"
    proxy = services["proxy"]
    assert proxy["ports"] == ["8000:8000"]
    assert [proxy["command"][i + 1] for i, a in enumerate(proxy["command"]) if a == "--to"] == [
        "web-1:8000",
        "web-2:8000",
    ]
    assert all(proxy["depends_on"][n]["condition"] == "service_healthy" for n in web)


def test_every_long_running_service_has_a_health_check(services: dict[str, Any]) -> None:
    for name, service in services.items():
        if name == "migrate":
            continue
        assert service.get("healthcheck", {}).get("test"), name
    assert services["worker-1"]["healthcheck"]["test"][1:] == ["rdv-spie", "worker", "--check"]
    assert "/readyz" in " ".join(services["web-1"]["healthcheck"]["test"])


def test_commands_and_settings_exist(services: dict[str, Any]) -> None:
    commands = [s["command"] for s in services.values() if s.get("command", [""])[0] == "rdv-spie"]
    commands += [s["healthcheck"]["test"][1:] for s in services.values()
                 if s.get("healthcheck", {}).get("test", ["", ""])[1] == "rdv-spie"]  # fmt: skip
    assert len(commands) == 7 and all(_known(c) for c in commands)
    fields = {f"RDV_{name.upper()}" for name in Settings.model_fields}
    for name in ("web-1", "worker-2", "migrate"):
        variables = {k for k in services[name]["environment"] if k.startswith("RDV_")}
        assert {"RDV_DATABASE_URL", "RDV_REDIS_URL", "RDV_SECRET_KEY"} <= variables, name
        assert variables <= fields, variables - fields
    assert services["web-1"]["environment"]["RDV_DATABASE_URL"].startswith("postgresql+asyncpg://")


def test_secrets_come_from_the_environment() -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    for secret in ("RDV_SECRET_KEY", "POSTGRES_PASSWORD"):
        assert re.search(rf"\$\{{{secret}:\?", text), f"{secret} must be required, not written"
    assert not re.search(r"(PASSWORD|SECRET_KEY):\s*['\"]?[A-Za-z0-9]{8,}", text)
