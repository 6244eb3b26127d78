"""make deploy's dashboard step on moto: config.json from the stack's outputs, the build in the
bucket with its cache headers, stale files removed, the distribution invalidated."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from local.deploy_dashboard import (
    IMMUTABLE,
    MissingOutputs,
    publish,
    site_config,
    stale,
    uploads,
)

OUTPUTS = {
    "DashboardBucketName": "leadbot-dev-dashboardbucket-1a2b3c",
    "DashboardDistributionId": "E2EXAMPLE12345",
    "CognitoDomain": "leadbot-dev-123456789012.auth.eu-west-1.amazoncognito.com",
    "DashboardUserPoolClientId": "5p1abcdefghijklmnopqrstuvw",
    "DashboardSiteUrl": "https://d1234abcd.cloudfront.net",
    "ApiUrl": "https://abc123.execute-api.eu-west-1.amazonaws.com/dev",
}


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    build = tmp_path / "dist"
    (build / "assets").mkdir(parents=True)
    (build / "index.html").write_text("<!doctype html><script src=/assets/index-AB12.js></script>")
    (build / "assets" / "index-AB12.js").write_text("console.log(1)")
    (build / "assets" / "index-CD34.css").write_text("body{}")
    (build / "config.json").write_text('{"api_base": "http://127.0.0.1:8080"}')
    return build


def test_config_json_names_cognito_and_the_api_on_the_same_origin() -> None:
    assert site_config(OUTPUTS) == {
        "api_base": "",
        "auth": {
            "mode": "cognito",
            "domain": "leadbot-dev-123456789012.auth.eu-west-1.amazoncognito.com",
            "client_id": "5p1abcdefghijklmnopqrstuvw",
            "scopes": ["openid", "email"],
        },
        "poll_seconds": 5,
    }
    with pytest.raises(MissingOutputs, match="CognitoDomain"):
        site_config({k: v for k, v in OUTPUTS.items() if k != "CognitoDomain"})


def test_hashed_assets_are_immutable_and_index_and_config_go_last(dist: Path) -> None:
    files = uploads(dist, site_config(OUTPUTS))
    assert [u.key for u in files] == [
        "assets/index-AB12.js",
        "assets/index-CD34.css",
        "config.json",
        "index.html",
    ]
    by_key = {u.key: u for u in files}
    assert by_key["assets/index-AB12.js"].cache_control == IMMUTABLE
    assert by_key["assets/index-AB12.js"].content_type == "text/javascript; charset=utf-8"
    assert by_key["index.html"].cache_control == "no-cache"
    # The build's own config.json (from a dev run) never reaches the bucket; the stack's does.
    assert json.loads(by_key["config.json"].body)["auth"]["mode"] == "cognito"
    assert stale(["index.html", "assets/index-OLD.js"], files) == ["assets/index-OLD.js"]


def test_without_a_build_nothing_is_uploaded(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="make dashboard"):
        uploads(tmp_path, site_config(OUTPUTS))


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    from moto import mock_aws

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        cloudfront = boto3.client("cloudfront", region_name="us-east-1")
        s3.create_bucket(Bucket=OUTPUTS["DashboardBucketName"])
        origin = f"{OUTPUTS['DashboardBucketName']}.s3.us-east-1.amazonaws.com"
        made = cloudfront.create_distribution(
            DistributionConfig={
                "CallerReference": "test",
                "Comment": "dashboard",
                "Enabled": True,
                "Origins": {
                    "Quantity": 1,
                    "Items": [
                        {
                            "Id": "b",
                            "DomainName": origin,
                            "S3OriginConfig": {"OriginAccessIdentity": ""},
                        }
                    ],
                },
                "DefaultCacheBehavior": {
                    "TargetOriginId": "b",
                    "ViewerProtocolPolicy": "redirect-to-https",
                },
            }
        )
        outputs = {**OUTPUTS, "DashboardDistributionId": made["Distribution"]["Id"]}
        yield {"s3": s3, "cloudfront": cloudfront, "outputs": outputs}


def test_publish_syncs_the_build_and_invalidates(aws: dict[str, Any], dist: Path) -> None:
    s3, outputs = aws["s3"], aws["outputs"]
    bucket = outputs["DashboardBucketName"]
    s3.put_object(Bucket=bucket, Key="assets/index-OLD.js", Body=b"old")
    done = publish(s3, aws["cloudfront"], outputs, dist)
    assert done["uploaded"] == 4 and done["deleted"] == 1
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == ["assets/index-AB12.js", "assets/index-CD34.css", "config.json", "index.html"]
    index = s3.get_object(Bucket=bucket, Key="index.html")
    assert index["CacheControl"] == "no-cache"
    assert index["ContentType"] == "text/html; charset=utf-8"
    asset = s3.head_object(Bucket=bucket, Key="assets/index-AB12.js")
    assert asset["CacheControl"] == IMMUTABLE
    config = json.loads(s3.get_object(Bucket=bucket, Key="config.json")["Body"].read())
    assert config == site_config(outputs)
    listed = aws["cloudfront"].list_invalidations(DistributionId=outputs["DashboardDistributionId"])
    assert [i["Id"] for i in listed["InvalidationList"]["Items"]] == [done["invalidation"]]
