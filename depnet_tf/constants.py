"""Every constant that comes from the DepNet paper or from the weights it builds on.

He et al., "DepNet: An automated industrial intelligent system using deep learning
for video-based depression analysis", Int J Intell Syst 2022 ("the paper" below).
Where the paper contradicts itself, the value here is the decision recorded in the
README's "Differences from the paper" section.
"""

# --- Input (paper, section 5.2.1) -----------------------------------------
# T = 5 face frames are sampled per clip, each cropped to 224x224 RGB.
NUM_FRAMES = 5
IMAGE_SIZE = 224

# --- VGGFace2 preprocessing (keras-vggface `preprocess_input(version=2)`) --
# RGB 0-255 is flipped to BGR and these BGR means are subtracted; no scaling.
VGGFACE2_MEAN_BGR = (91.4953, 103.8827, 131.0912)
# keras.applications.ResNet50 ("caffe" mode, ImageNet means in BGR order).
IMAGENET_MEAN_BGR = (103.939, 116.779, 123.68)

# --- SE-ResNet-50 (paper, sections 4.1.1 and 4.1.3, Figure 5) --------------
SENET50_STAGE_BLOCKS = (3, 4, 6, 3)
SENET50_STAGE_FILTERS = (64, 128, 256, 512)  # bottleneck widths; x4 on output
SE_REDUCTION = 16  # excitation: FC(C/16) + ReLU + FC(C) + sigmoid
BACKBONE_CHANNELS = 2048  # channels of the LLF (last conv block)
BACKBONE_STRIDE = 32  # 224 -> 7
VGGFACE2_CLASSES = 8631
BN_EPSILON = {"vggface": 1e-4, "caffe": 1e-5}  # keras-vggface / Caffe & PyTorch
STEMS = tuple(BN_EPSILON)
MIN_IMAGE_SIZE = 32  # the smallest input that still leaves a 1x1 LLF

# --- Feature Aggregation Module (paper, section 4.2, Figure 6) -------------
# The text says "kernel_size 4, stride 4" for the channel max-pool, but every
# dimension it states ([256x7x7], [5x12544], HLF [64x1x12544]) needs 2048/8.
CHANNEL_POOL = 8
TEMPORAL_KERNELS = (3, 5, 9)  # k x 1 convolutions along time
HLF_CHANNELS = 64  # the 1x1 convolution: HLF [64 x 1 x 12544]
# Not given by the paper; our defaults (see the README).
BRANCH_FILTERS = 32
FC_UNITS = 128
DROPOUT = 0.5

# --- Upper bounds of the model settings -------------------------------------
# A config may come from someone else; these refuse sizes that would build
# graph ops for minutes or allocate gigabytes before any error, each far above
# what the paper (or any sensible variant) uses. Each bound's reason is in
# `DepNetConfig`'s error message.
MAX_NUM_FRAMES = 64  # T; the paper's is 5. One graph branch per frame
MAX_IMAGE_SIZE = 1024  # S; the paper's is 224. SENet50 activations grow with S**2
MAX_TEMPORAL_KERNEL = 2 * MAX_NUM_FRAMES - 1  # a longer k x 1 kernel sees only padding
MAX_TEMPORAL_BRANCHES = 8  # the paper has 3 conv branches
MAX_LAYER_WIDTH = 4096  # branch filters, HLF channels, FC units; the paper's widest is 64

# --- Training (paper, section 5.2.1; Caffe `inv` policy) --------------------
BASE_LR = 1e-5
LR_GAMMA = 1e-4
LR_POWER = 0.75
MOMENTUM = 0.9
WEIGHT_DECAY = 5e-4
EARLY_STOP_ITERATIONS = 200

# --- BDI-II severity bands (paper, Table 1) --------------------------------
# Upper bounds (inclusive) of each band, and their names.
BDI_MAX = 63
SEVERITY_UPPER = (13, 19, 28, 63)
SEVERITY_NAMES = ("none/minimal", "mild", "moderate", "severe")

# --- The paper's models (Tables 2 and 3) -----------------------------------
# Their details (backbone, input, cache feature, signature) are in
# `depnet_tf.models.registry`; the names are here so that light modules (the
# command line) can list them without loading TensorFlow.
ARCH_NAMES = ("depnet", "senet-single", "resnet50-single", "resnet50-sequence")

# The AVEC data sets `depnet manifest` reads (`depnet_tf.data.avec`; their layouts:
# docs/design.md, "AVEC data conventions").
AVEC_DATASETS = ("avec2014", "avec2013")

# --- Workflow defaults (ours, not the paper's) ------------------------------
FACE_EVERY = 1  # sample every N-th video frame
FACE_MAX_FRAMES = 600  # then keep at most this many, evenly spread
FACE_DETECT_SIZE = 320  # longer side frames are shrunk to for detection
CROP_MODES = ("align", "box")  # 5-point alignment to a loose template, or a box crop
EVAL_CLIPS = 10  # evenly spread clips scored per video (evaluate, predict)
QUANTIZATIONS = ("float32", "float16", "dynamic")  # TFLite exports
STRATEGIES = ("default", "mirrored", "multiworker")  # tf.distribute

# --- The paper's reported results ---------------------------------------------
# Test-set RMSE and MAE of the four deep architectures: Table 2 (AVEC2013) and
# Table 3 (AVEC2014). AVEC2014 is scored per recording (100 test videos; the
# paper's Figure 8 says "100 V"), AVEC2013 per video (50).
PAPER_TABLES = {
    "avec2013": {  # Table 2
        "senet-single": (9.43, 7.58),
        "depnet": (9.17, 7.36),
        "resnet50-single": (9.83, 7.90),
        "resnet50-sequence": (9.54, 7.66),
    },
    "avec2014": {  # Table 3
        "senet-single": (9.30, 7.47),
        "depnet": (9.03, 7.26),
        "resnet50-single": (9.57, 7.68),
        "resnet50-sequence": (9.34, 7.48),
    },
}
PAPER_TABLE_NUMBERS = {"avec2013": 2, "avec2014": 3}
# The rows of Tables 2-3, in the paper's order and words.
PAPER_ARCH_NAMES = {
    "senet-single": "SENet",
    "depnet": "DepNet (SENet-based)",
    "resnet50-single": "ResNet-50 (single image)",
    "resnet50-sequence": "ResNet-50 (image sequence)",
}
# Video-only prior work the paper compares with: Table 4 (AVEC2013) and Table 5
# (AVEC2014), (RMSE, MAE); None where the paper gives no MAE.
PAPER_PRIOR_WORK = {
    "avec2013": {  # Table 4
        "Baseline [10]/LPQ-TOP": (13.61, 10.88),
        "Cummins et al. [55]/STIP and PHOG": (10.45, None),
        "Meng et al. [30]/EOH and LBP": (11.19, 9.14),
        "Wen et al. [12]/LPQ-TOP": (10.27, 8.22),
        "Zhu et al. [14]/Optical flow": (9.82, 7.58),
        "Mohamad et al. [20]/C3D, RNN": (9.28, 7.37),
        "Zhou et al. [18]/2D-CNN": (8.19, 6.30),
        "Song et al. [42]/CNN": (8.10, 6.16),
        "Md et al. [43]/LSTM": (8.93, 7.04),
        "Ours (DepNet)": (9.17, 7.36),
    },
    "avec2014": {  # Table 5
        "Baseline [11]/LGBP-TOP": (10.86, 8.86),
        "Sidorov et al. [56]/LGBP-TOP": (10.83, 8.32),
        "Jan et al. [57]/EOH, LBP and LPQ": (10.50, 8.44),
        "kaya et al. [58]/LGBP-TOP and LPQ": (10.27, 8.20),
        "Zhu et al. [14]/Optical flow": (9.55, 7.47),
        "Mohamad et al. [20]/C3D, RNN": (9.20, 7.22),
        "Zhou et al. [18]/2D-CNN": (8.39, 6.21),
        "Song et al. [42]/CNN": (7.15, 5.95),
        "Md et al. [43]/LSTM": (8.78, 6.86),
        "Ours (DepNet)": (9.03, 7.26),
    },
}

# The paper's statistical tests of its DepNet predictions: p-values of Table 6
# (AVEC2013) and Table 7 (AVEC2014), with the paper's readings (section 5.3.3).
PAPER_TESTS = {
    "avec2013": {
        "shapiro_wilk": 0.005,
        "dickey_fuller": 0.003,
        "anova": 1.000,
        "chi_squared": 1.000,
        "mann_whitney_u": 0.499,
    },  # Table 6
    "avec2014": {
        "shapiro_wilk": 0.002,
        "dickey_fuller": 0.001,
        "anova": 1.000,
        "chi_squared": 1.000,
        "mann_whitney_u": 0.498,
    },  # Table 7
}
PAPER_TEST_READINGS = {
    "shapiro_wilk": "predictions not Gaussian",
    "dickey_fuller": "predictions stationary",
    "anova": '"from different distributions" (wrong: p = 1 gives no evidence the means differ)',
    "chi_squared": '"dependent" (wrong: a large p gives no evidence of dependence)',
    "mann_whitney_u": "(no reading given)",
}

# Keras dtype policies DepNet supports: float32 everywhere, or 16-bit compute with
# float32 variables and a float32 score (Keras mixed precision). Not in the paper.
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
