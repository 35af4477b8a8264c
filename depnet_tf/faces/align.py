"""Face alignment: a 5-point similarity transform to a loose 224x224 template, or a box crop."""

import cv2
import numpy as np

# The widely used 5-point template for 112x112 tight face crops (eyes, nose tip,
# mouth corners; image-left first), here doubled to 224 and shrunk by 0.8 about
# (112, 120). That leaves the margin of VGGFace2's loose crops (detector boxes
# enlarged by 30%), which the SENet50 weights were trained on.
_TIGHT_112 = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ]
)
LOOSE_TEMPLATE_224 = (_TIGHT_112 * 2.0 - [112.0, 120.0]) * 0.8 + [112.0, 120.0]
BOX_ENLARGE = 1.3  # VGGFace2: boxes enlarged by 30% before cropping


def similarity_transform(source, target):
    """Least-squares 2x3 similarity (rotation, uniform scale, shift) mapping source -> target.

    Umeyama's closed form, without reflection.
    """
    source = np.asarray(source, np.float64)
    target = np.asarray(target, np.float64)
    mean_s, mean_t = source.mean(0), target.mean(0)
    s, t = source - mean_s, target - mean_t
    covariance = t.T @ s / len(source)
    u, singular, vt = np.linalg.svd(covariance)
    sign = np.sign(np.linalg.det(u @ vt)) or 1.0
    d = np.diag([1.0, sign])
    rotation = u @ d @ vt
    scale = np.trace(np.diag(singular) @ d) / s.var(0).sum()
    shift = mean_t - scale * rotation @ mean_s
    return np.hstack([scale * rotation, shift[:, None]])


def align_face(image, landmarks, size=224):
    """Warp `image` so the 5 `landmarks` (x, y) land on the loose template, at `size` px."""
    template = LOOSE_TEMPLATE_224 * (size / 224.0)
    matrix = similarity_transform(landmarks, template)
    return cv2.warpAffine(
        image,
        matrix,
        (size, size),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )


def crop_box(image, box, size=224):
    """Square crop around a detector box (x1, y1, x2, y2) enlarged by 30%, resized to `size`."""
    x1, y1, x2, y2 = box
    center_x, center_y = (x1 + x2) / 2, (y1 + y2) / 2
    half = max(x2 - x1, y2 - y1) * BOX_ENLARGE / 2
    matrix = np.array(
        [
            [size / (2 * half), 0, -(center_x - half) * size / (2 * half)],
            [0, size / (2 * half), -(center_y - half) * size / (2 * half)],
        ]
    )
    return cv2.warpAffine(
        image,
        matrix,
        (size, size),
        flags=cv2.INTER_AREA,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
