"""The console under /app/ (api/console.py): SPA fallback, cache headers, the CSP, the page
that says how to build it, and the API routes untouched."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from api.main import create_app
from sms_channels.demo_seed import DEMO_AGENTS, seed_demo_directory
from sms_channels.settings import Settings
from tests.support.common import JWT_SECRET


def client(console_dir: Path, **settings: object) -> TestClient:
    settings = {"persistence": "memory", "jwt_secret": JWT_SECRET, **settings}
    return TestClient(create_app(Settings(console_dir=console_dir, **settings)))  # type: ignore[arg-type]


def built(tmp_path: Path) -> Path:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    index = '<script type="module" src="/app/assets/index-abc123.js"></script>'
    (dist / "index.html").write_text(index)
    (dist / "assets" / "index-abc123.js").write_text("console.log(1)")
    (dist / "favicon.svg").write_text("<svg/>")
    return dist


def test_any_path_below_app_answers_index_html_uncached_with_a_strict_csp(tmp_path: Path) -> None:
    http = client(built(tmp_path))
    for path in ("/app/", "/app/account/channels/sms", "/app/settings/sms-requests", "/app/audit"):
        answer = http.get(path)
        assert answer.status_code == 200, path
        assert answer.text.startswith("<script"), path
        assert answer.headers["cache-control"] == "no-cache"
        csp = answer.headers["content-security-policy"]
        assert "script-src 'self';" in csp
        assert "connect-src 'self'" in csp
        assert "frame-ancestors 'self'" in csp


def test_hashed_assets_are_immutable_and_a_missing_one_is_404(tmp_path: Path) -> None:
    http = client(built(tmp_path))
    asset = http.get("/app/assets/index-abc123.js")
    assert asset.status_code == 200
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "content-security-policy" in asset.headers
    assert http.get("/app/assets/index-old999.js").status_code == 404
    assert http.get("/app/favicon.svg").headers["cache-control"] == "no-cache"


def test_paths_cannot_leave_the_bundle(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("no")
    http = client(built(tmp_path))
    answer = http.get("/app/..%2Fsecret.txt")
    assert answer.text != "no"
    assert answer.text.startswith("<script")


def test_the_frame_ancestors_are_the_ui_origins(tmp_path: Path) -> None:
    http = client(built(tmp_path), cors_allow_origins="https://app.example.com")
    csp = http.get("/app/").headers["content-security-policy"]
    assert "frame-ancestors 'self' https://app.example.com" in csp


def test_without_a_build_app_says_how_to_build_it_and_the_api_still_answers(tmp_path: Path) -> None:
    http = client(tmp_path / "missing")
    answer = http.get("/app/account/channels/sms")
    assert answer.status_code == 503
    assert "make install" in answer.text
    assert "npm ci" in answer.text
    assert http.get("/healthz").status_code == 200
    assert http.get("/app", follow_redirects=False).headers["location"] == "/app/"


def test_the_console_is_not_in_the_openapi_document(tmp_path: Path) -> None:
    paths = client(built(tmp_path)).get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith("/app")]


def test_the_demo_seed_writes_the_directory_once_and_leaves_changes_alone() -> None:
    from domain.agent_directory import AgentInfo  # noqa: PLC0415
    from domain.application import SmsChannels  # noqa: PLC0415
    from providers.sandbox import SandboxProvider  # noqa: PLC0415
    from sms_channels.database import eventsourcing_env  # noqa: PLC0415

    app = SmsChannels(SandboxProvider(), env=eventsourcing_env(Settings(persistence="memory")))
    assert seed_demo_directory(app) == list(DEMO_AGENTS)
    renamed = AgentInfo("ws_1", "Support", "Ava 2", "kb_1", "Help center")
    app.upsert_agent("acc_demo", "agent_1", renamed)
    assert seed_demo_directory(app) == []
    assert app.find_agent("acc_demo", "agent_1") == renamed
    assert app.find_agent("acc_demo", "agent_4") == DEMO_AGENTS["agent_4"]
    workspaces = {info.workspace_id for info in DEMO_AGENTS.values()}
    assert len(workspaces) == 2
    assert any(info.knowledge_base_id is None for info in DEMO_AGENTS.values())
