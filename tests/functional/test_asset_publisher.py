"""The asset publisher custom resource against moto's S3 and CloudFront.

CloudFormation's side is a real HTTP server on 127.0.0.1 that records the PUT answering the
pre-signed ResponseURL, so every test also checks that the stack would get its answer.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from livescreen.asset_publisher import handler

BUCKET = "livescreen-assets-test"


@dataclass
class Answer:
    method: str
    content_type: str | None
    body: dict[str, Any]


class _Recorder(BaseHTTPRequestHandler):
    answers: list[Answer]

    def do_PUT(self) -> None:
        length = int(self.headers["Content-Length"])
        self.answers.append(
            Answer("PUT", self.headers.get("Content-Type"), json.loads(self.rfile.read(length)))
        )
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def cloudformation_answers() -> Iterator[tuple[str, list[Answer]]]:
    answers: list[Answer] = []
    recorder = type("Recorder", (_Recorder,), {"answers": answers})
    server = ThreadingHTTPServer(("127.0.0.1", 0), recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/response?X-Amz-Signature=abc", answers
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def aws(fake_aws_credentials: None) -> Iterator[dict[str, Any]]:
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        cloudfront = boto3.client("cloudfront")
        distribution = cloudfront.create_distribution(
            DistributionConfig={
                "CallerReference": str(uuid.uuid4()),
                "Comment": "test",
                "Enabled": True,
                "Origins": {
                    "Quantity": 1,
                    "Items": [
                        {
                            "Id": "assets",
                            "DomainName": f"{BUCKET}.s3.us-east-1.amazonaws.com",
                            "S3OriginConfig": {"OriginAccessIdentity": ""},
                        }
                    ],
                },
                "DefaultCacheBehavior": {
                    "TargetOriginId": "assets",
                    "ViewerProtocolPolicy": "redirect-to-https",
                    "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
                },
            }
        )["Distribution"]
        yield {"s3": s3, "cloudfront": cloudfront, "distribution_id": distribution["Id"]}


@pytest.fixture
def assets_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A build as `npm run build` leaves it: pages, app scripts, vendored SDKs with a .wasm."""
    root = tmp_path / "assets"
    files = {
        "index.html": "<!doctype html><title>watch</title>",
        "host.html": "<!doctype html><title>host</title>",
        "js/host.js": "export const host = 1;",
        "css/app.css": "body { margin: 0 }",
        "vendor/twilio-live-player-wasmworker-1-7-0.min.wasm": "\0asm\1\0\0\0",
        "vendor/twilio-live-player-wasmworker-1-7-0.min.js": "self.onmessage = () => {};",
        "vendor/twilio-video.min.js": "window.Twilio = {};",
        ".gitkeep": "",
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("ASSETS_DIR", str(root))
    return root


class _Context:
    def get_remaining_time_in_millis(self) -> int:
        return 300_000


def run_resource(
    request_type: str, aws: dict[str, Any], response_url: str, physical_id: str | None = None
) -> None:
    event: dict[str, Any] = {
        "RequestType": request_type,
        "ResponseURL": response_url,
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/live/abc",
        "RequestId": str(uuid.uuid4()),
        "LogicalResourceId": "PublishedAssets",
        "ResourceType": "Custom::AssetPublisher",
        "ResourceProperties": {
            "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:publisher",
            "BucketName": BUCKET,
            "DistributionId": aws["distribution_id"],
            "PublisherVersion": "1",
        },
    }
    if physical_id:
        event["PhysicalResourceId"] = physical_id
    handler(event, _Context())


def invalidations(aws: dict[str, Any]) -> list[list[str]]:
    """The paths of every invalidation created so far."""
    listed = aws["cloudfront"].list_invalidations(DistributionId=aws["distribution_id"])
    ids = [item["Id"] for item in listed["InvalidationList"].get("Items", [])]
    return [
        aws["cloudfront"]
        .get_invalidation(DistributionId=aws["distribution_id"], Id=i)["Invalidation"][
            "InvalidationBatch"
        ]["Paths"]
        .get("Items", [])
        for i in ids
    ]


def bucket_keys(aws: dict[str, Any]) -> set[str]:
    listed = aws["s3"].list_objects_v2(Bucket=BUCKET)
    return {obj["Key"] for obj in listed.get("Contents", [])}


def test_create_uploads_every_file_with_the_type_and_caching_a_browser_needs(
    aws: dict[str, Any], assets_dir: Path, cloudformation_answers: tuple[str, list[Answer]]
) -> None:
    # GIVEN a fresh stack with an empty bucket
    url, answers = cloudformation_answers
    # WHEN CloudFormation creates the resource
    run_resource("Create", aws, url)
    # THEN every built file (and no hidden file) is in the bucket
    assert bucket_keys(aws) == {
        "index.html",
        "host.html",
        "js/host.js",
        "css/app.css",
        "vendor/twilio-live-player-wasmworker-1-7-0.min.wasm",
        "vendor/twilio-live-player-wasmworker-1-7-0.min.js",
        "vendor/twilio-video.min.js",
    }

    def head(key: str) -> dict[str, Any]:
        return aws["s3"].head_object(Bucket=BUCKET, Key=key)

    # AND the player's WebAssembly is served as application/wasm, so browsers compile it
    wasm = head("vendor/twilio-live-player-wasmworker-1-7-0.min.wasm")
    assert wasm["ContentType"] == "application/wasm"
    # AND a file with its version in its name may be cached for a year
    assert wasm["CacheControl"] == "public, max-age=31536000, immutable"
    # AND pages are revalidated on every visit, so a deploy shows up at once
    page = head("host.html")
    assert page["ContentType"] == "text/html; charset=utf-8"
    assert page["CacheControl"] == "no-cache, must-revalidate"
    # AND unversioned scripts and styles are revalidated too
    assert head("vendor/twilio-video.min.js")["ContentType"] == "text/javascript; charset=utf-8"
    assert head("vendor/twilio-video.min.js")["CacheControl"] == "no-cache"
    assert head("css/app.css")["ContentType"] == "text/css; charset=utf-8"
    # AND nothing was invalidated (nothing could have been cached yet)
    assert invalidations(aws) == []
    # AND CloudFormation got exactly one SUCCESS answer, PUT with an empty Content-Type
    assert len(answers) == 1
    assert answers[0].content_type == ""
    assert answers[0].body["Status"] == "SUCCESS"
    assert answers[0].body["PhysicalResourceId"] == f"assets-{BUCKET}"
    assert answers[0].body["Data"]["Uploaded"] == 7


def test_a_deploy_that_changes_nothing_uploads_and_invalidates_nothing(
    aws: dict[str, Any], assets_dir: Path, cloudformation_answers: tuple[str, list[Answer]]
) -> None:
    url, answers = cloudformation_answers
    run_resource("Create", aws, url)
    # WHEN the stack is updated with the same build
    run_resource("Update", aws, url, physical_id=f"assets-{BUCKET}")
    # THEN nothing is uploaded and CloudFront is not invalidated
    assert answers[-1].body["Status"] == "SUCCESS"
    assert answers[-1].body["Data"] == {"Uploaded": 0, "Deleted": 0, "InvalidationId": ""}
    assert invalidations(aws) == []


def test_a_changed_build_replaces_changed_files_deletes_stale_ones_and_invalidates_them(
    aws: dict[str, Any], assets_dir: Path, cloudformation_answers: tuple[str, list[Answer]]
) -> None:
    url, answers = cloudformation_answers
    run_resource("Create", aws, url)
    # GIVEN a new build: index.html changed, the app stylesheet removed, a new script added
    (assets_dir / "index.html").write_text("<!doctype html><title>new</title>", encoding="utf-8")
    (assets_dir / "css" / "app.css").unlink()
    (assets_dir / "js" / "viewer.js").write_text("export {};", encoding="utf-8")
    # WHEN the stack is updated
    run_resource("Update", aws, url, physical_id=f"assets-{BUCKET}")
    # THEN the bucket holds exactly the new build
    assert "css/app.css" not in bucket_keys(aws)
    assert "js/viewer.js" in bucket_keys(aws)
    body = aws["s3"].get_object(Bucket=BUCKET, Key="index.html")["Body"].read()
    assert body == b"<!doctype html><title>new</title>"
    # AND one invalidation covers what viewers may have cached: the changed page (also served
    # as /) and the deleted file; the new file needs none
    assert invalidations(aws) == [["/", "/css/app.css", "/index.html"]]
    assert answers[-1].body["Data"]["Uploaded"] == 2
    assert answers[-1].body["Data"]["Deleted"] == 1


def test_a_file_served_with_the_wrong_type_is_fixed_even_if_its_bytes_are_unchanged(
    aws: dict[str, Any], assets_dir: Path, cloudformation_answers: tuple[str, list[Answer]]
) -> None:
    url, _ = cloudformation_answers
    key = "vendor/twilio-live-player-wasmworker-1-7-0.min.wasm"
    # GIVEN the .wasm was once uploaded (by hand, say) as a generic binary
    aws["s3"].put_object(
        Bucket=BUCKET,
        Key=key,
        Body=(assets_dir / key).read_bytes(),
        ContentType="application/octet-stream",
    )
    # WHEN the assets are published
    run_resource("Update", aws, url, physical_id=f"assets-{BUCKET}")
    # THEN it is served as application/wasm, and the cached copy is invalidated
    assert aws["s3"].head_object(Bucket=BUCKET, Key=key)["ContentType"] == "application/wasm"
    assert invalidations(aws) == [["/" + key]]


def test_delete_empties_the_bucket_so_the_stack_can_delete_it(
    aws: dict[str, Any], assets_dir: Path, cloudformation_answers: tuple[str, list[Answer]]
) -> None:
    url, answers = cloudformation_answers
    run_resource("Create", aws, url)
    # WHEN `sam delete` deletes the resource
    run_resource("Delete", aws, url, physical_id=f"assets-{BUCKET}")
    # THEN the bucket is empty, so CloudFormation can delete it next
    assert bucket_keys(aws) == set()
    aws["s3"].delete_bucket(Bucket=BUCKET)
    assert answers[-1].body["Status"] == "SUCCESS"
    assert answers[-1].body["Data"] == {"Deleted": 7}


def test_delete_succeeds_when_the_bucket_is_already_gone(
    aws: dict[str, Any], assets_dir: Path, cloudformation_answers: tuple[str, list[Answer]]
) -> None:
    url, answers = cloudformation_answers
    aws["s3"].delete_bucket(Bucket=BUCKET)
    run_resource("Delete", aws, url, physical_id=f"assets-{BUCKET}")
    assert answers[-1].body["Status"] == "SUCCESS"


def test_a_failure_is_answered_with_the_reason_instead_of_hanging_the_stack(
    aws: dict[str, Any], assets_dir: Path, cloudformation_answers: tuple[str, list[Answer]]
) -> None:
    url, answers = cloudformation_answers
    # GIVEN the bucket does not exist
    aws["s3"].delete_bucket(Bucket=BUCKET)
    # WHEN CloudFormation creates the resource
    run_resource("Create", aws, url)
    # THEN the stack is told at once that it failed, and why
    assert len(answers) == 1
    assert answers[0].body["Status"] == "FAILED"
    assert "NoSuchBucket" in answers[0].body["Reason"]
    assert answers[0].body["PhysicalResourceId"] == f"assets-{BUCKET}"


def test_missing_build_fails_with_a_message_that_says_how_to_build(
    aws: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    cloudformation_answers: tuple[str, list[Answer]],
) -> None:
    url, answers = cloudformation_answers
    monkeypatch.setenv("ASSETS_DIR", str(tmp_path / "nowhere"))
    run_resource("Create", aws, url)
    assert answers[0].body["Status"] == "FAILED"
    assert "npm run build" in answers[0].body["Reason"]


def test_the_answer_is_never_sent_over_plain_http_to_a_remote_host() -> None:
    from livescreen.asset_publisher import cfn_response

    event = {
        "ResponseURL": "http://cloudformation-custom-resource-response.example.com/x",
        "StackId": "s",
        "RequestId": "r",
        "LogicalResourceId": "PublishedAssets",
    }
    with pytest.raises(ValueError, match="https"):
        cfn_response.send(event, "SUCCESS", "assets-x")


def test_pages_are_uploaded_after_the_scripts_they_load(
    aws: dict[str, Any],
    assets_dir: Path,
    cloudformation_answers: tuple[str, list[Answer]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, _ = cloudformation_answers
    # GIVEN a record of the order in which files reach the bucket
    from livescreen.asset_publisher import custom_resource

    order: list[str] = []
    aws["s3"].meta.events.register(
        "provide-client-params.s3.PutObject", lambda params, **_: order.append(params["Key"])
    )
    monkeypatch.setattr(custom_resource, "_clients", lambda: (aws["s3"], aws["cloudfront"]))
    # WHEN the pages are published
    run_resource("Create", aws, url)
    # THEN no page lands before a file it could point at
    pages = [i for i, key in enumerate(order) if key.endswith(".html")]
    others = [i for i, key in enumerate(order) if not key.endswith(".html")]
    assert pages and others
    assert min(pages) > max(others)


def test_a_success_answer_that_fails_to_go_out_is_followed_by_a_failure_answer(
    aws: dict[str, Any],
    assets_dir: Path,
    cloudformation_answers: tuple[str, list[Answer]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, answers = cloudformation_answers
    # GIVEN the first PUT to CloudFormation's response URL fails on the way out
    from livescreen.asset_publisher import cfn_response

    real_send = cfn_response.send
    attempts: list[str] = []

    def flaky_send(event: dict[str, Any], status: Any, *args: Any, **kwargs: Any) -> None:
        attempts.append(str(status))
        if len(attempts) == 1:
            raise OSError("connection reset")
        real_send(event, status, *args, **kwargs)

    monkeypatch.setattr(cfn_response, "send", flaky_send)
    # WHEN CloudFormation creates the resource
    run_resource("Create", aws, url)
    # THEN the stack still gets exactly one answer instead of waiting out its timeout
    assert len(answers) == 1
    assert answers[0].body["Status"] == "FAILED"
