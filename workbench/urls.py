"""URL converters that refuse what can never exist, so that bad paths are a plain 404."""

from werkzeug.routing import BaseConverter


class SlugConverter(BaseConverter):
    regex = r"[a-z0-9]+(?:-[a-z0-9]+)*"


class PositiveIntConverter(BaseConverter):
    """1 to 999,999,999: `0`, `-1`, `abc` and 20-digit numbers never reach the database."""

    regex = r"[1-9][0-9]{0,8}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(int(value))


class ElementKeyConverter(BaseConverter):
    regex = r"(?:statement|ambition|objective|condition)-[1-9][0-9]{0,8}"


CONVERTERS = {"slug": SlugConverter, "posint": PositiveIntConverter, "element_key": ElementKeyConverter}
