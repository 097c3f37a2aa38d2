"""The answer link on the letters: ``mma_answer_link`` gives a one-time link of the site's own
address once ``public_url`` is configured, and nothing before."""

from __future__ import annotations

from pathlib import Path

from mma_web import plugin as web
from mma_web.links import LinkStore

from mma_core import Programme
from mma_core.plugin_api import Config, hookimpl
from mma_core.testing import fresh_plugins, registered


def configured(url: str, **table: object) -> Config:
    return Config(store=url, data={"plugins": {"mma-web": table}})


class Broken:
    @hookimpl
    def mma_answer_link(self, programme: Programme, code: str, by: str) -> str | None:
        raise RuntimeError("no address today")


def test_mma_answer_link(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    with Programme.open(url) as prog:
        prog.register_registry("noord-holland-2019", by="coordinator")
        plugins = fresh_plugins(configured(url, public_url="https://mma.example/", link_days=14))
        with registered(plugins, web, "mma-web"), registered(plugins, Broken(), "broken"):
            link = plugins.hook.answer_link(prog, "GM0363", "cdk")
            # A plugin that raises is reported and passed over: the next one's link is used.
            assert any("mma_answer_link" in e for e in plugins.records["broken"].errors)
        assert link is not None
        assert link.startswith("https://mma.example/antwoord/")
        stored = LinkStore.for_programme(prog).resolve(link.rsplit("/", 1)[1])
        assert stored is not None
        assert (stored.code, stored.created_by) == ("GM0363", "cdk")
        assert (stored.expires_at - stored.created_at).days == 14
        # Every letter gets a link of its own.
        with registered(plugins, web, "mma-web"):
            assert plugins.hook.answer_link(prog, "GM0363", "cdk") != link
        # Without the site's address there is no link, and no link is stored.
        before = len(LinkStore.for_programme(prog).links("GM0363"))
        plugins = fresh_plugins(configured(url))
        with registered(plugins, web, "mma-web"):
            assert plugins.hook.answer_link(prog, "GM0363", "cdk") is None
        assert len(LinkStore.for_programme(prog).links("GM0363")) == before
