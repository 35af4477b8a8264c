"""Visual explanation of DepNet's scores: which face regions and which frames drive them.

`grad_cam` and `grad_cam_from_features` (per-frame heatmaps on the LLF),
`frame_importance` (the FAM's temporal max-pools), `integrated_gradients`
(pixels), and `explain_path` (what `depnet explain` writes).
"""

from depnet_tf.explain.attribution import frame_importance, integrated_gradients, mean_face
from depnet_tf.explain.gradcam import grad_cam, grad_cam_from_features
from depnet_tf.explain.video import explain_extremes, explain_path

__all__ = [
    "explain_extremes",
    "explain_path",
    "frame_importance",
    "grad_cam",
    "grad_cam_from_features",
    "integrated_gradients",
    "mean_face",
]
