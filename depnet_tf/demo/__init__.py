"""`depnet demo`: the whole system on generated face videos, in minutes on a CPU."""

from depnet_tf.demo.run import DemoSettings, format_report, run_demo
from depnet_tf.demo.videos import make_demo_videos

__all__ = ["DemoSettings", "format_report", "make_demo_videos", "run_demo"]
