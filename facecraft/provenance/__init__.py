"""Provenance: every output facecraft writes is labelled as synthetic, and ``verify`` can tell.

Contract for the stages that write outputs (swap, animate)
----------------------------------------------------------
After an output file is complete, call exactly one of (they work in place and atomically)::

    label_video(path, action, inputs, consent=None, visible_label=False)   # .mp4
    label_image(path, action, inputs, consent=None, visible_label=False)   # .png / .jpg
    label_file(...)                                                        # either, by extension

- ``action``: ``"swap"`` (IPTC compositeWithTrainedAlgorithmicMedia) or ``"animate"`` (trainedAlgorithmicMedia).
- ``inputs``: the source files (their names and sha256 go into the manifest).
- ``consent``: the ``--consent FILE`` record, or None (its sha256 goes into the manifest).
- ``visible_label``: the ``--label`` flag: burn "AI-generated" into the pixels.

This watermarks the pixels (the video is decoded and re-encoded at CRF 16), adds the metadata tags and
embeds a signed C2PA manifest. To avoid the extra decode/encode of a video, label frames as you write
them and pass the labeller's content id::

    labeller = FrameLabeller(visible_label=args.label)
    with VideoWriter(out, w, h, fps, audio_from=src) as writer:
        for frame in frames:
            writer.write(labeller.apply(frame))
    label_video(out, "swap", [src, faceset_db], consent, args.label, content_id=labeller.content_id)

``verify(path) -> VerifyReport`` reads all three labels back. Errors a user can cause raise FacecraftError.
"""

from facecraft.provenance.label import FrameLabeller, label_file, label_image, label_video
from facecraft.provenance.verify import VerifyReport, verify

__all__ = ["FrameLabeller", "VerifyReport", "label_file", "label_image", "label_video", "verify"]
