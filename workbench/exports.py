"""Small helpers shared by every download."""


def csv_safe(value: str) -> str:
    """A cell starting with = + - @ would run as a formula in a spreadsheet: neutralise it."""
    if value and value[0] in "=+-@\t\r":
        return "'" + value
    return value
