"""Heatmaps drawn on the aligned frames: a per-clip grid (a `Figure`) and an animated GIF."""

import cv2
import numpy as np


def heat(cam, size, vmax):
    """A (h, w) Grad-CAM map as an RGB uint8 heatmap (size, size), scaled by `vmax`."""
    from matplotlib import colormaps

    scaled = cv2.resize(np.asarray(cam, np.float32), (size, size), interpolation=cv2.INTER_LINEAR)
    scaled = np.clip(scaled / vmax, 0, 1) if vmax > 0 else np.zeros_like(scaled)
    return (colormaps["jet"](scaled)[..., :3] * 255).astype(np.uint8)


def overlay(frame, cam, vmax, opacity=0.45):
    """The frame (S, S, 3) uint8 with its heatmap blended over it."""
    frame = np.asarray(frame, np.uint8)
    colours = heat(cam, frame.shape[0], vmax)
    return (frame * (1 - opacity) + colours * opacity).astype(np.uint8)


def clip_grid(frames, cams, importance, numbers, score):
    """One clip's frames with their Grad-CAM overlays and frame importances, as a `Figure`.

    Each clip's maps share one scale (its largest value), so frames compare.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    count = len(frames)
    figure = Figure(figsize=(2.2 * count, 2.7), dpi=100)
    panels = figure.subplots(1, count, squeeze=False)[0]
    vmax = float(np.max(cams)) if np.size(cams) else 0.0
    for panel, frame, cam, weight, number in zip(panels, frames, cams, importance, numbers):
        panel.imshow(overlay(frame, cam, vmax))
        panel.set_xticks([])
        panel.set_yticks([])
        panel.set_title(f"frame {int(number)}", fontsize=9)
        panel.set_xlabel(f"importance {weight:.2f}", fontsize=9)
    figure.suptitle(f"clip score {score:.1f} (Grad-CAM on the LLF; brighter = more)", fontsize=9)
    figure.tight_layout()
    return figure


def write_gif(images, path, seconds_per_frame=0.4):
    """An animated GIF of RGB uint8 images, written atomically."""
    from PIL import Image

    from depnet_tf.files import atomic_path

    pictures = [Image.fromarray(np.asarray(image, np.uint8)) for image in images]
    with atomic_path(path) as temporary:
        pictures[0].save(
            temporary,
            format="GIF",
            save_all=True,
            append_images=pictures[1:],
            duration=int(seconds_per_frame * 1000),
            loop=0,
        )
    return path
