"""The Go text/tabwriter emulation, against outputs derived by hand from Go's algorithm.

The expected strings follow `tabwriter.go`: a column is aligned over a block of consecutive lines that
have a tab-terminated cell in it (width = max(minwidth, widest cell + padding)); the last cell of a
line is never padded; a line without a tab ends every block. The cases named `go-*` are the shapes of
Go's own `tabwriter_test.go` table; the `kubectl-*` cases are the worked examples of docs/kubectl-output.md#tab-writers.
"""

from __future__ import annotations

import pytest

from minikubelet.printing.tabwriter import (
    ALIGN_RIGHT,
    DEBUG,
    DISCARD_EMPTY_COLUMNS,
    REMEMBER_WIDTHS,
    TAB_INDENT,
    TabWriter,
    tabwrite,
)

GO_13_SOURCE = (
    "4444\t日本語\t22\t1\t333\n"
    "999999999\t22\n"
    "7\t22\n"
    "\t\t\t88888888\n"
    "\n"
    "666666\t666666\t666666\t4444\n"
    "1\t1\t999999999\t0000000000\n"
)

CASES = [
    # name, minwidth, tabwidth, padding, padchar, flags, source, expected
    ("go-empty", 8, 0, 1, ".", 0, "", ""),
    ("go-newlines", 8, 0, 1, ".", 0, "\n\n\n", "\n\n\n"),
    ("go-no-tabs", 8, 0, 1, ".", 0, "a\nb\nc", "a\nb\nc"),
    ("go-lone-tab", 8, 0, 1, ".", 0, "\t", ""),
    ("go-lone-tab-right", 8, 0, 1, ".", ALIGN_RIGHT, "\t", ""),
    ("go-5", 8, 0, 1, ".", 0, "*\t*", "*.......*"),
    ("go-5b", 8, 0, 1, ".", 0, "*\t*\n", "*.......*\n"),
    ("go-5c", 8, 0, 1, ".", 0, "*\t*\t", "*.......*"),
    ("go-5c-debug", 8, 0, 1, ".", DEBUG, "*\t*\t", "*.......|*"),
    ("go-5d", 8, 0, 1, ".", ALIGN_RIGHT, "*\t*\t", ".......**"),
    ("go-6", 8, 0, 1, ".", 0, "\t\n", "........\n"),
    ("go-7a", 8, 0, 1, ".", 0, "a) foo", "a) foo"),
    ("go-7b", 8, 0, 1, " ", 0, "b) foo\tbar", "b) foo  bar"),
    ("go-9a", 1, 0, 0, ".", 0, "1\t2\t3\t4\n11\t222\t3333\t44444\n", "1.2..3...4\n11222333344444\n"),
    ("go-10a", 5, 0, 0, ".", 0, "1\t2\t3\t4\n", "1....2....3....4\n"),
    ("go-10b", 5, 0, 0, ".", 0, "1\t2\t3\t4\t\n", "1....2....3....4....\n"),
    (
        "go-11-runes",
        8,
        0,
        1,
        ".",
        0,
        "本\tb\tc\naa\t本本本\tcccc\tddddd\naaa\tbbbb\n",
        "本.......b.......c\naa......本本本.....cccc....ddddd\naaa.....bbbb\n",
    ),
    (
        "go-12a-right",
        8,
        0,
        1,
        " ",
        ALIGN_RIGHT,
        "a\tè\tc\t\naa\tèèè\tcccc\tddddd\t\naaa\tèèèè\t\n",
        "       a       è       c\n      aa     èèè    cccc   ddddd\n     aaa    èèèè\n",
    ),
    (
        "go-13a-blocks",
        4,
        0,
        1,
        "-",
        0,
        GO_13_SOURCE,
        "4444------日本語-22--1---333\n"
        "999999999-22\n"
        "7---------22\n"
        "------------------88888888\n"
        "\n"
        "666666-666666-666666----4444\n"
        "1------1------999999999-0000000000\n",
    ),
    (
        "go-13b-blocks",
        4,
        0,
        3,
        ".",
        0,
        GO_13_SOURCE,
        "4444........日本語...22...1...333\n"
        "999999999...22\n"
        "7...........22\n"
        "....................88888888\n"
        "\n"
        "666666...666666...666666......4444\n"
        "1........1........999999999...0000000000\n",
    ),
    (
        "go-14-numbers-right",
        1,
        0,
        2,
        " ",
        ALIGN_RIGHT,
        ".0\t.3\t2.4\t-5.1\t\n"
        "23.0\t12345678.9\t2.4\t-989.4\t\n"
        "5.1\t12.0\t2.4\t-7.0\t\n"
        ".0\t0.0\t332.0\t8908.0\t\n"
        ".0\t-.3\t456.4\t22.1\t\n"
        ".0\t1.2\t44.4\t-13.3\t\t",
        "    .0          .3    2.4    -5.1\n"
        "  23.0  12345678.9    2.4  -989.4\n"
        "   5.1        12.0    2.4    -7.0\n"
        "    .0         0.0  332.0  8908.0\n"
        "    .0         -.3  456.4    22.1\n"
        "    .0         1.2   44.4   -13.3",
    ),
    ("discard-empty-soft-column", 4, 0, 0, ".", DISCARD_EMPTY_COLUMNS, "a\v\vb", "a...b"),
    ("discard-keeps-tab-terminated", 4, 0, 0, ".", DISCARD_EMPTY_COLUMNS, "a\t\tb", "a.......b"),
    ("keep-empty-soft-column", 4, 0, 0, ".", 0, "a\v\vb", "a.......b"),
    ("tab-padding", 0, 8, 1, "\t", 0, "a\tb\nabcdefgh\tc\n", "a\t\tb\nabcdefgh\tc\n"),
    ("tab-padding-no-tabwidth", 0, 0, 1, "\t", 0, "a\tb\n", "ab\n"),
    ("tab-indent", 0, 4, 1, " ", TAB_INDENT, "\tx\ty\n\tlonger\tz\n", "\tx      y\n\tlonger z\n"),
    ("vtab-soft-cell", 0, 8, 2, " ", 0, "a\vb\nccc\vd\n", "a    b\nccc  d\n"),
    ("formfeed-flushes", 0, 8, 2, " ", 0, "a\tb\fccc\td\n", "a  b\nccc  d\n"),
    # docs/kubectl-output.md#tab-writers: kubectl get (minwidth 6, tabwidth 4, padding 3): width = max(len + 3, 6).
    (
        "kubectl-get",
        6,
        4,
        3,
        " ",
        0,
        "NAME\tREADY\tSTATUS\tRESTARTS\tAGE\necho\t1/1\tRunning\t2 (45s ago)\t3m10s\n",
        "NAME   READY   STATUS    RESTARTS      AGE\necho   1/1     Running   2 (45s ago)   3m10s\n",
    ),
    ("kubectl-get-minwidth", 6, 4, 3, " ", 0, "A\tB\nx\ty\n", "A     B\nx     y\n"),
    # docs/kubectl-output.md#tab-writers: describe (minwidth 0, tabwidth 8, padding 2): "IPs:" has no tab and ends the block.
    (
        "kubectl-describe-blocks",
        0,
        8,
        2,
        " ",
        0,
        "Name:\techo\nService Account:\tdefault\nIPs:\n  IP:\t10.244.0.5\nContainers:\n",
        "Name:             echo\nService Account:  default\nIPs:\n  IP:  10.244.0.5\nContainers:\n",
    ),
    (
        "kubectl-describe-trailing-spaces",
        0,
        8,
        2,
        " ",
        0,
        "Conditions:\n  Type\tStatus\n  PodReadyToStartContainers \tTrue \n  Ready \tFalse \nVolumes:\t<none>\n",
        "Conditions:\n"
        "  Type                        Status\n"
        "  PodReadyToStartContainers   True \n"
        "  Ready                       False \n"
        "Volumes:                      <none>\n",
    ),
]


@pytest.mark.parametrize(
    ("minwidth", "tabwidth", "padding", "padchar", "flags", "source", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_tabwriter(minwidth: int, tabwidth: int, padding: int, padchar: str, flags: int, source: str, expected: str) -> None:
    assert tabwrite(source, minwidth=minwidth, tabwidth=tabwidth, padding=padding, padchar=padchar, flags=flags) == (expected)


def test_chunked_writes_equal_one_write() -> None:
    writer = TabWriter(4, 0, 1, "-")
    for char in GO_13_SOURCE:
        writer.write(char)
    writer.flush()
    assert writer.getvalue() == tabwrite(GO_13_SOURCE, minwidth=4, tabwidth=0, padding=1, padchar="-")


def test_nested_blocks_align_inner_columns_separately() -> None:
    # Column 0 spans all three lines; column 1 only the first two (the third has no second tab).
    source = "a\tbb\tc\naaa\tb\tc\nx\ty\n"
    assert tabwrite(source, minwidth=0, tabwidth=8, padding=1) == "a   bb c\naaa b  c\nx   y\n"


def test_flush_twice_resets_widths() -> None:
    writer = TabWriter(0, 8, 1)
    writer.write("long-cell\tx\n")
    writer.flush()
    writer.write("a\tb\n")
    writer.flush()
    assert writer.getvalue() == "long-cell x\na b\n"


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError):
        TabWriter(-1, 8, 1)
    with pytest.raises(ValueError):
        TabWriter(0, 8, 1, "--")


def test_remember_widths_keeps_a_column_as_wide_as_it_has_been() -> None:
    """liggitt/tabwriter's RememberWidths (kubectl get): across flushes, and across blocks of one flush."""
    writer = TabWriter(0, 8, 1, " ", REMEMBER_WIDTHS)
    writer.write("wide-cell\tx\n")
    writer.flush()
    writer.write("a\tb\tc\n")
    writer.flush()
    assert writer.getvalue() == "wide-cell x\na         b c\n"
    assert tabwrite("long\tx\nno tabs\na\tb\n", minwidth=0, tabwidth=8, padding=1, flags=REMEMBER_WIDTHS) == (
        "long x\nno tabs\na    b\n"
    )
    assert tabwrite("long\tx\nno tabs\na\tb\n", minwidth=0, tabwidth=8, padding=1) == "long x\nno tabs\na b\n"
