"""``aifnb-publish``: publish a notebook as a dashboard from a session or any shell.

In a session it needs no arguments beyond the notebook and its audience: the session's
JUPYTERHUB_API_TOKEN carries the publish scope when its owner is a trainer or an admin, and
AIFNB_DASHBOARDS_URL (set by the hub) says where the gallery is. Elsewhere give --url and
--token (a token from the hub's token page).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
from pathlib import Path

import httpx


class PublishError(RuntimeError):
    """The service refused; the message is the service's reason."""


def _client(url: str | None, token: str | None) -> httpx.Client:
    url = url or os.environ.get("AIFNB_DASHBOARDS_URL", "")
    token = token or os.environ.get("JUPYTERHUB_API_TOKEN", "")
    if not url or not token:
        raise PublishError("no gallery URL or token: run in a hub session, or give --url and --token")
    return httpx.Client(base_url=url.rstrip("/") + "/api/", headers={"Authorization": f"token {token}"}, timeout=120)


def _checked(response: httpx.Response) -> dict:
    if response.status_code >= 400:
        try:
            message = response.json().get("message", response.text)
        except ValueError:
            message = response.text[:300]
        raise PublishError(f"{response.status_code}: {message}")
    return response.json() if response.content else {}


def publish_notebook(
    notebook: Path | str,
    *,
    title: str,
    groups: list[str],
    description: str = "",
    slug: str = "",
    service: str = "",
    sector: str = "",
    source: str = "",
    thumbnail: Path | str | None = None,
    url: str | None = None,
    token: str | None = None,
) -> dict:
    """Publish (or replace, same slug) a dashboard; returns the service's model with its ``url``."""
    body = {
        "notebook": Path(notebook).read_text(encoding="utf-8"),
        "title": title,
        "groups": groups,
        "description": description,
        "slug": slug,
        "service": service,
        "sector": sector,
        "source": source,
    }
    if thumbnail:
        body["thumbnail"] = base64.b64encode(Path(thumbnail).read_bytes()).decode()
    with _client(url, token) as client:
        return _checked(client.post("dashboards", json=body))


def unpublish(slug: str, *, url: str | None = None, token: str | None = None) -> None:
    with _client(url, token) as client:
        _checked(client.delete(f"dashboards/{slug}"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="aifnb-publish", description="Publish a notebook as a Voilà dashboard in the gallery.")
    parser.add_argument("notebook", nargs="?", type=Path, help="the .ipynb to publish")
    parser.add_argument("--title", help="title on the gallery card (default: the file name)")
    parser.add_argument("--groups", default="learners", help="comma-separated groups it is shared with (default: learners)")
    parser.add_argument("--description", default="")
    parser.add_argument("--slug", default="", help="stable name in the URL; the same slug replaces the dashboard")
    parser.add_argument("--service", default="", help="Factory service: Upskill, Assess, Build & Test, Scale & Run")
    parser.add_argument("--sector", default="", help="finance, space, green economy, cybersecurity")
    parser.add_argument("--source", default="", help="catalogue path, to take service and sector from the catalogue")
    parser.add_argument("--thumbnail", type=Path, help="PNG or JPEG picture (default: a generated title card)")
    parser.add_argument("--unpublish", metavar="SLUG", help="remove this dashboard instead")
    parser.add_argument("--url", help="gallery URL (default: $AIFNB_DASHBOARDS_URL)")
    parser.add_argument("--token", help="hub API token (default: $JUPYTERHUB_API_TOKEN)")
    args = parser.parse_args(argv)
    try:
        if args.unpublish:
            unpublish(args.unpublish, url=args.url, token=args.token)
            print(f"unpublished {args.unpublish}")
            return 0
        if not args.notebook:
            parser.error("give a notebook, or --unpublish SLUG")
        model = publish_notebook(
            args.notebook,
            title=args.title or args.notebook.stem.replace("_", " "),
            groups=[g.strip() for g in args.groups.split(",") if g.strip()],
            description=args.description,
            slug=args.slug,
            service=args.service,
            sector=args.sector,
            source=args.source,
            thumbnail=args.thumbnail,
            url=args.url,
            token=args.token,
        )
    except (PublishError, OSError, httpx.HTTPError) as exc:
        print(f"aifnb-publish: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(model, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
