"""An emulation of Go's `text/tabwriter`, the column aligner behind `kubectl get` and `kubectl describe`.

kubectl's layout is not "pad every column to its widest cell": Go's tabwriter aligns a column only over
a *block* of consecutive lines that have a tab-terminated cell in that column, and recurses into the
next column inside that block. A line without tabs ends every block (that is why `describe` values
jump between column 18, 19 and 20), and the last cell of a line never belongs to a column (so it is
never padded). Reproducing kubectl byte for byte means reproducing this algorithm, which is what this
module does, following `tabwriter.go` (`Write`, `terminateCell`, `format`, `writeLines`).

Text is handled as `str`; cell widths count code points, as Go counts runes. The Escape character and
`FilterHTML`/`StripEscape` are not supported (kubectl uses neither). `REMEMBER_WIDTHS` is the flag of
github.com/liggitt/tabwriter, the fork `kubectl get` writes through: a column, counted from the left, is
never narrower than it has been in any earlier block, flushes included.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ALIGN_RIGHT", "DEBUG", "DISCARD_EMPTY_COLUMNS", "REMEMBER_WIDTHS", "TAB_INDENT", "TabWriter", "tabwrite"]

ALIGN_RIGHT = 4
DISCARD_EMPTY_COLUMNS = 8
TAB_INDENT = 16
DEBUG = 32
REMEMBER_WIDTHS = 64  # liggitt/tabwriter only

_SEPARATORS = re.compile(r"([\t\v\n\f])")


@dataclass(frozen=True)
class _Cell:
    text: str
    htab: bool  # terminated by '\t' (a '\v' or end of line gives a "soft" cell)

    @property
    def width(self) -> int:
        return len(self.text)


class TabWriter:
    """Go's `tabwriter.Writer`: `write()` text, then `flush()`; `getvalue()` returns what was output."""

    def __init__(self, minwidth: int, tabwidth: int, padding: int, padchar: str = " ", flags: int = 0) -> None:
        if minwidth < 0 or tabwidth < 0 or padding < 0 or len(padchar) != 1:
            raise ValueError("negative width/padding or a padchar that is not one character")
        self._minwidth, self._tabwidth, self._padding, self._padchar = minwidth, tabwidth, padding, padchar
        # Go: "tab padding enforces left-alignment".
        self._flags = flags & ~ALIGN_RIGHT if padchar == "\t" else flags
        self._out: list[str] = []
        self._maxwidths: list[int] = []  # REMEMBER_WIDTHS: kept across flushes
        self._reset()

    def _reset(self) -> None:
        self._lines: list[list[_Cell]] = [[]]
        self._cell = ""
        self._widths: list[int] = []

    def write(self, text: str) -> None:
        for piece in _SEPARATORS.split(text):
            if piece in ("\t", "\v", "\n", "\f"):
                self._separator(piece)
            else:
                self._cell += piece

    def _separator(self, char: str) -> None:
        cells = self._terminate_cell(htab=char == "\t")
        if char in ("\n", "\f"):
            self._lines.append([])
            # A line with a single cell cannot affect the following lines: Go flushes there.
            if char == "\f" or cells == 1:
                self._flush_buffer()

    def _terminate_cell(self, *, htab: bool) -> int:
        line = self._lines[-1]
        line.append(_Cell(self._cell, htab))
        self._cell = ""
        return len(line)

    def flush(self) -> None:
        """Format and output everything buffered (Go's `Flush`)."""
        if self._cell:
            self._terminate_cell(htab=False)
        self._flush_buffer()

    def _flush_buffer(self) -> None:
        self._format(0, len(self._lines))
        self._reset()

    def getvalue(self) -> str:
        return "".join(self._out)

    def _format(self, line0: int, line1: int) -> None:
        column = len(self._widths)
        this = line0
        while this < line1:
            if column >= len(self._lines[this]) - 1:
                this += 1
                continue
            # A cell exists in this column: print the lines before the block, then measure the block.
            self._write_lines(line0, this)
            line0 = this
            width, this = self._measure_block(column, this, line1)
            if self._flags & REMEMBER_WIDTHS:
                width = self._remembered(width)
            self._widths.append(width)
            self._format(line0, this)
            self._widths.pop()
            line0 = this
        self._write_lines(line0, line1)

    def _measure_block(self, column: int, start: int, line1: int) -> tuple[int, int]:
        width, discardable, this = self._minwidth, True, start
        while this < line1 and column < len(self._lines[this]) - 1:
            cell = self._lines[this][column]
            width = max(width, cell.width + self._padding)
            discardable = discardable and cell.width == 0 and not cell.htab
            this += 1
        if discardable and self._flags & DISCARD_EMPTY_COLUMNS:
            width = 0
        return width, this

    def _remembered(self, width: int) -> int:
        """liggitt/tabwriter's RememberWidths: the block's width, or the widest this column has been."""
        column = len(self._widths)
        if len(self._maxwidths) < column:
            self._maxwidths.extend(self._widths[len(self._maxwidths) :])
        if len(self._maxwidths) == column:
            self._maxwidths.append(width)
        elif self._maxwidths[column] > width:
            width = self._maxwidths[column]
        else:
            self._maxwidths[column] = width
        return width

    def _write_lines(self, line0: int, line1: int) -> None:
        for index in range(line0, line1):
            self._write_line(self._lines[index])
            # The last buffered line has no newline yet (its text, if any, is still unterminated).
            if index + 1 != len(self._lines):
                self._out.append("\n")

    def _write_line(self, line: list[_Cell]) -> None:
        use_tabs = bool(self._flags & TAB_INDENT)
        for j, cell in enumerate(line):
            if j > 0 and self._flags & DEBUG:
                self._out.append("|")
            width = self._widths[j] if j < len(self._widths) else None
            if not cell.text:
                if width is not None:
                    self._pad(0, width, use_tabs)
                continue
            use_tabs = False
            self._write_cell(cell, width)

    def _write_cell(self, cell: _Cell, width: int | None) -> None:
        if self._flags & ALIGN_RIGHT:
            if width is not None:
                self._pad(cell.width, width, False)
            self._out.append(cell.text)
            return
        self._out.append(cell.text)
        if width is not None:
            self._pad(cell.width, width, False)

    def _pad(self, text_width: int, cell_width: int, use_tabs: bool) -> None:
        if self._padchar == "\t" or use_tabs:
            if self._tabwidth == 0:
                return  # tabs have no width: no padding possible
            cell_width = -(-cell_width // self._tabwidth) * self._tabwidth
            self._out.append("\t" * -(-(cell_width - text_width) // self._tabwidth))
            return
        self._out.append(self._padchar * (cell_width - text_width))


def tabwrite(text: str, *, minwidth: int, tabwidth: int, padding: int, padchar: str = " ", flags: int = 0) -> str:
    """Write `text` through a fresh TabWriter, flush, and return the aligned output."""
    writer = TabWriter(minwidth, tabwidth, padding, padchar, flags)
    writer.write(text)
    writer.flush()
    return writer.getvalue()
