"""Entry points that take a file or a sequence: a video, an image, a saved ``.npz`` pose sequence or a
`PoseSequence` in, a report out. They load the poses (`posecoach.pose.engine.load_sequence`) and hand them to the
pure analyses (`posecoach.analysis`), which never read a file themselves. `posecoach.analyze` and
`posecoach.detect_falls` are these; `posecoach.compare` is `posecoach.comparison`'s.
"""
