"""`DemoSettings`: the sizes of `depnet demo` (light: the command line reads its defaults)."""

import dataclasses

from depnet_tf import constants as C


@dataclasses.dataclass(frozen=True)
class DemoSettings:
    """Sizes of the demo. The defaults finish in a few minutes on a 2-core CPU.

    Training is the paper's recipe (SGD, base lr 1e-5, momentum 0.9, Caffe's inv
    policy, coupled weight decay 5e-4, Euclidean loss, 200-iteration early
    stopping) on the frozen backbone's cached features, shortened to 4 epochs of
    75 iterations, on 64x64 face crops instead of 224x224 (the README lists both).
    """

    num_videos: int = 40
    frames_per_video: int = 36
    test_fraction: float = 0.25
    # A dev split for the conformal calibration: 10 of the 40 videos, above the 9
    # that a bounded 90% interval needs (`depnet_tf.evaluation.conformal`).
    dev_fraction: float = 0.25
    alpha: float = 0.1
    image_size: int = 64
    num_frames: int = C.NUM_FRAMES
    fc_units: int = C.FC_UNITS
    base_lr: float = C.BASE_LR
    max_epochs: int = 4
    clips_per_video: int = 50
    eval_clips_per_video: int = 10
    batch_size: int = 16
    seed: int = 0
    # The demo's faces fill a third of a 320x240 frame: detecting at 192 px finds
    # every one of them, 1.7x faster than at the default 320. `predict` on a demo
    # video must detect at the same size to see the crops the model was trained on.
    detect_size: int = 192
    backbone_weights: str | None = "auto"  # "auto": VGGFace2 if cached, else random
    precision: str = "float32"  # one of `constants.PRECISIONS` (the model's dtype policy)

    def __post_init__(self):
        if self.num_videos < 4:
            raise ValueError(
                f"`num_videos` must be at least 4. Received: num_videos={self.num_videos}"
            )
        if self.frames_per_video < self.num_frames:
            raise ValueError(
                f"`frames_per_video` must be at least T={self.num_frames}. "
                f"Received: frames_per_video={self.frames_per_video}"
            )
        if not 0 < self.test_fraction < 1:
            raise ValueError(
                f"`test_fraction` must be in (0, 1). Received: test_fraction={self.test_fraction}"
            )
        if not 0 <= self.dev_fraction < 1 - self.test_fraction:
            raise ValueError(
                "`dev_fraction` must be in [0, 1 - test_fraction). "
                f"Received: dev_fraction={self.dev_fraction}"
            )
        if self.precision not in C.PRECISIONS:
            raise ValueError(
                f"`precision` must be one of {C.PRECISIONS}. Received: {self.precision!r}"
            )
        if self.max_epochs < 1:
            raise ValueError(
                f"`max_epochs` must be at least 1. Received: max_epochs={self.max_epochs}"
            )
