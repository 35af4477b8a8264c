"""The one error type of the weight loaders."""


class WeightsError(ValueError):
    """A weight file that cannot be read or does not fit; the message names the file."""
