"""From face videos to aligned face crops in OpenFace's layout (paper, section 5.2.1).

Video decoding (`video`), MTCNN detection (`detector`), 5-point alignment
(`align`), and `extract_faces` / `extract_all` (`extract`), which write the
layout `depnet_tf.faces.openface` names.
"""
