"""The error type of the data pipeline: one line, naming the file, folder or row."""


class DataError(ValueError):
    """Bad input data; the message names what is wrong and where."""
