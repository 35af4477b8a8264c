"""Loading speed of the VGGFace2 weight loaders against Keras' own `load_weights`.

Writes a full-size SENet50 (no top, about 100 MB) with random weights in the
keras-vggface legacy HDF5 layout and the VGGFace2-pytorch pickle layout, plus our
own `.weights.h5`, then times each load (best of --repeats) and prints a table.

    .venv/bin/python benchmarks/bench_weights.py
"""

import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from timing import best_of  # noqa: E402

from depnet_tf import SENet50  # noqa: E402
from depnet_tf.weights import load_vggface2  # noqa: E402
from tests.weights.reference import (  # noqa: E402
    keras_vggface_layers,
    random_state_dict,
    write_keras_vggface_h5,
    write_pytorch_pickle,
)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    state = random_state_dict(seed=0)
    with tempfile.TemporaryDirectory() as folder:
        legacy = os.path.join(folder, "rcmalli_vggface_tf_notop_senet50.h5")
        pickled = os.path.join(folder, "senet50_ft_weight.pkl")
        native = os.path.join(folder, "senet50.weights.h5")
        write_keras_vggface_h5(legacy, keras_vggface_layers(state))
        write_pytorch_pickle(pickled, state)
        vggface = SENet50()
        caffe = SENet50(stem="caffe")
        load_vggface2(vggface, legacy)
        vggface.save_weights(native)

        rows = [
            (
                "keras load_weights, our .weights.h5",
                native,
                best_of(args.repeats, lambda: vggface.load_weights(native)),
            ),
            (
                "load_vggface2, keras-vggface .h5",
                legacy,
                best_of(args.repeats, lambda: load_vggface2(vggface, legacy)),
            ),
            (
                "load_vggface2, VGGFace2-pytorch .pkl",
                pickled,
                best_of(args.repeats, lambda: load_vggface2(caffe, pickled)),
            ),
            (
                "load_vggface2, our .weights.h5",
                native,
                best_of(args.repeats, lambda: load_vggface2(vggface, native)),
            ),
        ]
        baseline = rows[0][2]
        print(f"{'loader':<40} {'file MB':>8} {'seconds':>8} {'ratio':>6}")
        for name, path, seconds in rows:
            size = os.path.getsize(path) / 1e6
            print(f"{name:<40} {size:>8.1f} {seconds:>8.3f} {seconds / baseline:>6.2f}")


if __name__ == "__main__":
    main()
