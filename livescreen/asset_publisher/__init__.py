"""The CloudFormation custom resource that publishes the built pages to the assets bucket.

``Handler: livescreen.asset_publisher.handler`` (see template.yaml, ``PublishedAssets``).
"""

from livescreen.asset_publisher.custom_resource import handler

__all__ = ["handler"]
