"""A date printed in a picture stands in for a capture time the file does not have (ingest/times.py)."""

from datetime import datetime

import pytest

from ingest.times import printed_date


@pytest.mark.parametrize("text, expected", [
    ("CHO EUN / DATE 12/30/2016 FRI  TIME 19:19 / TOTAL $60.44", datetime(2016, 12, 30, 19, 19)),  # month first: 30 > 12
    ("Date:  07/04/2018 - 18.10:59", datetime(2018, 4, 7, 18, 10)),  # day first
    ("08/04/2018 14:26  B512292", datetime(2018, 4, 8, 14, 26)),
    ("Issued 2019-06-12", datetime(2019, 6, 12, 12, 0)),  # no clock: midday
    ("Concert / 12 June 2019 / Doors 7:30 pm", datetime(2019, 6, 12, 12, 0)),  # a clock on another row is not its time
    ("June 12, 2019 7:30 pm", datetime(2019, 6, 12, 19, 30)),
])
def test_printed_dates(text, expected):
    assert printed_date(text) == expected


@pytest.mark.parametrize("text", ["Tel 07-3886322", "31/02/2020", "TOTAL 12.00", "Sábado 14 junho", "01/01/2999", ""])
def test_no_date(text):
    assert printed_date(text) is None
