"""How a stage records its host: IVS individual participant recording into the stack's bucket.

With ``RECORDING=on`` and ``IVS_STORAGE_CONFIGURATION_ARN`` set, ``CreateStage`` carries an
``autoParticipantRecordingConfiguration``: IVS then records every participant that publishes to
the stage, each into its own S3 prefix, as HLS. Only the host publishes (viewers' tokens do not
allow it), so each stage records the host alone. IVS charges nothing for it; S3 bills storage.
See docs/ivs.md ("Recordings").
"""

from __future__ import annotations

import logging
import re
from typing import Any

from livescreen.config import ConfigError, Settings, running_on_lambda

logger = logging.getLogger(__name__)

#: botocore's pattern for AutoParticipantRecordingStorageConfigurationArn (without the empty case).
STORAGE_CONFIGURATION_ARN = re.compile(
    r"arn:aws[a-z-]*:ivs:[a-z0-9-]+:[0-9]+:storage-configuration/[a-zA-Z0-9-]+"
)
#: A host whose connection drops and who is back within this many seconds keeps one recording
#: (IVS merges them under one prefix); the recording's end is reported this much later.
RECONNECT_WINDOW_SECONDS = 60
#: IVS's default HLS segment length, stated so a change is a decision, not an accident.
SEGMENT_SECONDS = 6


def recording_configuration(settings: Settings) -> dict[str, Any] | None:
    """The ``autoParticipantRecordingConfiguration`` new stages get, or None (not recorded).

    Called only where stages are created (``/host_token``): the stack gives the storage
    configuration to that function alone. There, ``RECORDING=on`` without one is a deployment
    mistake on Lambda and raises ``ConfigError``; on a
    developer's machine (where ``RECORDING`` defaults to on for the local provider) it is logged
    once and the stream is simply not recorded.
    """
    if not settings.get_flag("RECORDING"):
        return None
    arn = (settings.get("IVS_STORAGE_CONFIGURATION_ARN") or "").strip()
    if not arn:
        if running_on_lambda():
            raise ConfigError(
                "Setting RECORDING is on but IVS_STORAGE_CONFIGURATION_ARN is not set: deploy "
                "with the stack parameter Recording=on (it creates the storage configuration), "
                f"or set RECORDING=off in {settings.source}"
            )
        logger.warning(
            "RECORDING is on but IVS_STORAGE_CONFIGURATION_ARN is not set: IVS stages will not "
            "be recorded (set it to an ivs-realtime storage configuration, or RECORDING=off)"
        )
        return None
    if not STORAGE_CONFIGURATION_ARN.fullmatch(arn):
        raise ConfigError(
            "Setting IVS_STORAGE_CONFIGURATION_ARN must be the ARN of an IVS storage "
            "configuration (arn:aws:ivs:<region>:<account>:storage-configuration/<id>)"
        )
    return {
        "storageConfigurationArn": arn,
        "mediaTypes": ["AUDIO_VIDEO"],
        # nothing in the app shows thumbnails: do not write them
        "thumbnailConfiguration": {"recordingMode": "DISABLED"},
        "recordingReconnectWindowSeconds": RECONNECT_WINDOW_SECONDS,
        "hlsConfiguration": {"targetSegmentDurationSeconds": SEGMENT_SECONDS},
    }
