"""Batched MTCNN face detection at reduced resolution, one face (the most confident) per frame."""

import dataclasses

import cv2
import numpy as np

KEYPOINTS = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")


@dataclasses.dataclass
class Face:
    """One detection in source-frame pixels: box (x1, y1, x2, y2), confidence, 5 landmarks."""

    box: tuple
    confidence: float
    landmarks: np.ndarray  # (5, 2), image-left eye first


class FaceDetector:
    """The `mtcnn` package's detector, run on batches of downscaled frames.

    Args:
        detect_size: int, frames are shrunk so their longer side is at most this
            before detection (landmarks are mapped back). Defaults to 320.
        batch_size: int, frames per MTCNN call. Defaults to 16.
        min_confidence: float, detections below it are dropped. Defaults to 0.9.
    """

    def __init__(self, detect_size=320, batch_size=16, min_confidence=0.9):
        self.detect_size = int(detect_size)
        self.batch_size = int(batch_size)
        self.min_confidence = float(min_confidence)
        self._mtcnn = None  # its networks load on the first detection, if there is one

    @property
    def mtcnn(self):
        if self._mtcnn is None:
            from mtcnn import MTCNN

            self._mtcnn = MTCNN()
        return self._mtcnn

    def detect(self, frames):
        """The most confident face of each RGB frame, or None where there is none."""
        results = [None] * len(frames)
        # mtcnn 1.0 misplaces detections in batches of mixed image sizes, so
        # each batch holds frames of one shape only.
        by_shape = {}
        for position, frame in enumerate(frames):
            by_shape.setdefault(frame.shape, []).append(position)
        for positions in by_shape.values():
            for start in range(0, len(positions), self.batch_size):
                batch = positions[start : start + self.batch_size]
                for position, face in zip(batch, self._detect_batch([frames[p] for p in batch])):
                    results[position] = face
        return results

    def _detect_batch(self, frames):
        scales, small = [], []
        for frame in frames:
            scale = min(1.0, self.detect_size / max(frame.shape[:2]))
            scales.append(scale)
            if scale < 1.0:
                size = (round(frame.shape[1] * scale), round(frame.shape[0] * scale))
                frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
            small.append(frame)
        # The NumPy output keeps sub-pixel landmarks (the JSON output rounds them).
        # Its rows are [image, x1, y1, x2, y2, confidence, 5 landmark x, 5 landmark y].
        rows = np.asarray(self.mtcnn.detect_faces(small, box_format="xyxy", output_type="numpy"))
        faces = []
        for image, scale in enumerate(scales):
            found = (
                rows[(rows[:, 0] == image) & (rows[:, 5] >= self.min_confidence)]
                if len(rows)
                else rows
            )
            if not len(found):
                faces.append(None)
                continue
            best = found[np.argmax(found[:, 5])]
            landmarks = np.stack([best[6:11], best[11:16]], axis=1) / scale
            faces.append(Face(tuple(best[1:5] / scale), float(best[5]), landmarks))
        return faces
