"""`make deploy`'s dashboard step: config.json from the stack's outputs, the build to its bucket
(`aws s3 sync --delete` with cache headers per file), then a CloudFront invalidation."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from local.dashboard import CONTENT_TYPES

REPO = Path(__file__).resolve().parent.parent
DIST = REPO / "dashboard" / "dist"
# The outputs of template.yaml this step needs.
REQUIRED_OUTPUTS: Final = (
    "DashboardBucketName",
    "DashboardDistributionId",
    "CognitoDomain",
    "DashboardUserPoolClientId",
)
# The scopes DashboardUserPoolClient allows (AllowedOAuthScopes).
SCOPES: Final = ["openid", "email"]
POLL_SECONDS: Final = 5
# Vite names what it writes under assets/ by content hash: a new build is a new name.
IMMUTABLE: Final = "public, max-age=31536000, immutable"
REVALIDATE: Final = "no-cache"
# Written last: a browser never gets an index.html naming assets not uploaded yet.
LAST: Final = ("config.json", "index.html")


class MissingOutputs(Exception):
    """The stack lacks an output this step needs (deployed from an older template?)."""


@dataclass(frozen=True)
class Upload:
    key: str
    body: bytes
    content_type: str
    cache_control: str


def site_config(outputs: Mapping[str, str], poll_seconds: int = POLL_SECONDS) -> dict[str, Any]:
    """config.json of the hosted dashboard: the API on its own origin (CloudFront's /api/*
    behaviour), Cognito's hosted UI with the dashboard's app client."""
    missing = [name for name in REQUIRED_OUTPUTS if not outputs.get(name)]
    if missing:
        raise MissingOutputs(f"the stack has no output {', '.join(missing)}")
    return {
        "api_base": "",
        "auth": {
            "mode": "cognito",
            "domain": outputs["CognitoDomain"],
            "client_id": outputs["DashboardUserPoolClientId"],
            "scopes": list(SCOPES),
        },
        "poll_seconds": poll_seconds,
    }


def uploads(dist: Path, config: Mapping[str, Any]) -> list[Upload]:
    """Every file of the build plus config.json, each with its type and cache policy; hashed
    assets first, index.html and config.json last."""
    if not (dist / "index.html").is_file():
        raise FileNotFoundError(f"{dist}/index.html: build the dashboard first (make dashboard)")
    found = []
    for path in sorted(p for p in dist.rglob("*") if p.is_file()):
        key = path.relative_to(dist).as_posix()
        if key == "config.json":
            continue  # a stale one from `npm run dev`: the stack's is written below
        kind = CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")
        cache = IMMUTABLE if key.startswith("assets/") else REVALIDATE
        found.append(Upload(key, path.read_bytes(), kind, cache))
    body = json.dumps(dict(config), indent=2).encode()
    found.append(Upload("config.json", body, "application/json", REVALIDATE))
    return sorted(found, key=lambda u: (u.key in LAST, LAST.index(u.key) if u.key in LAST else 0))


def stale(existing: Iterable[str], wanted: Iterable[Upload]) -> list[str]:
    """Keys in the bucket the build no longer has (sync's --delete)."""
    keep = {u.key for u in wanted}
    return sorted(key for key in existing if key not in keep)


def publish(s3: Any, cloudfront: Any, outputs: Mapping[str, str], dist: Path) -> dict[str, Any]:
    """Upload the build and config.json, delete what it no longer has, invalidate the cache."""
    bucket = outputs["DashboardBucketName"]
    files = uploads(dist, site_config(outputs))
    for upload in files:
        s3.put_object(
            Bucket=bucket,
            Key=upload.key,
            Body=upload.body,
            ContentType=upload.content_type,
            CacheControl=upload.cache_control,
        )
    existing = [
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for item in page.get("Contents", [])
    ]
    removed = stale(existing, files)
    for start in range(0, len(removed), 1000):
        chunk = removed[start : start + 1000]
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in chunk]})
    invalidation = cloudfront.create_invalidation(
        DistributionId=outputs["DashboardDistributionId"],
        InvalidationBatch={
            "Paths": {"Quantity": 1, "Items": ["/*"]},
            # Unique per deploy: CloudFront ignores a repeated reference.
            "CallerReference": f"leadbot-dashboard-{time.time_ns()}",
        },
    )
    return {
        "uploaded": len(files),
        "deleted": len(removed),
        "invalidation": invalidation["Invalidation"]["Id"],
    }


def stack_outputs(cloudformation: Any, stack: str) -> dict[str, str]:
    described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.deploy_dashboard", description=__doc__)
    parser.add_argument("--stack", required=True, help="the deployed stack, e.g. leadbot-dev")
    parser.add_argument("--region", help="the stack's region (default: the AWS configuration's)")
    parser.add_argument("--dist", type=Path, default=DIST, help="the build (dashboard/dist)")
    args = parser.parse_args(argv)
    import boto3

    session = boto3.session.Session(region_name=args.region)
    outputs = stack_outputs(session.client("cloudformation"), args.stack)
    try:
        done = publish(session.client("s3"), session.client("cloudfront"), outputs, args.dist)
    except (MissingOutputs, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"dashboard: {done['uploaded']} files to s3://{outputs['DashboardBucketName']}, "
        f"{done['deleted']} removed, invalidation {done['invalidation']}; "
        f"{outputs.get('DashboardSiteUrl', '')}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
