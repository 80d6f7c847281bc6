"""Typed values read out of evidence text (lifelog/readers.py): totals, labelled values, numbers
beside their words, phone numbers, clock offsets and durations. Pure string tests."""

from __future__ import annotations

import pytest

from lifelog.readers import (Value, after_label, amounts, clock_of, duration_words, number_near, phones, rows,
                             sentences, total)


def test_rows_split_ocr_on_slashes():
    assert rows(" TOTAL $60.44 /  / CASH $80.00 ") == ["TOTAL $60.44", "CASH $80.00"]


def test_sentences():
    assert sentences("Hi there. How are you? Fine!") == ["Hi there.", "How are you?", "Fine!"]


def test_amounts_with_currency_either_side():
    assert amounts("Coffee $3.50, cake 2,75 € and 10 items") == ["$3.50", "2,75 €"]


@pytest.mark.parametrize("ocr", [
    "SUBTOTAL $55.96 / TAX $4.48 / TOTAL $60.44",
    "TOTAL $60.44 / SUBTOTAL $55.96",
])
def test_total_over_subtotal(ocr):
    v = total(rows(ocr))
    assert v == Value("$60.44", "TOTAL $60.44", "TOTAL")


def test_total_skips_rows_that_only_look_like_totals():
    assert total(rows("Total Items: 4 / Total Sales Amount 33.00 / TOTAL 35.50")).text == "35.50"
    assert total(rows("Total Items: 4 / Total Sales Amount 33.00")) is None
    assert total(rows("Total Savings $2.00 / Total $10.00")).text == "$10.00"
    assert total(rows("Subtotal 10.00")) is None


def test_total_amount_on_the_next_row():
    v = total(rows("Coffee 3.50 / TOTAL / $12.00 / CASH $20.00"))
    assert v.text == "$12.00" and v.line == "TOTAL / $12.00"  # both rows are the evidence


def test_total_due_with_a_bracket():
    v = total(rows("Bica 1.20 / Total Due (GST inc): 18.90"))
    assert v.text == "18.90" and v.label == "Total Due"


@pytest.mark.parametrize("ocr, paid", [
    ("Bica 1,20 € / Total 1,20 €", "1,20 €"),
    ("Total 1.234,56 €", "1.234,56 €"),
    ("TOTAL: $1,234.56", "$1,234.56"),
    ("TOTAL 60.44 USD", "60.44 USD"),
    ("Grand Total RM 45.00 / Total 40.00", "RM 45.00"),
])
def test_total_number_formats(ocr, paid):
    assert total(rows(ocr)).text == paid


def test_no_total():
    assert total(rows("Thank you / Come again")) is None
    assert total([]) is None


def test_after_label_on_the_next_row():
    v = after_label(rows("CAFE LUSO / WIFI Password / 9PJz5i8n / Thank you"), "wi-fi password")
    assert v.text == "9PJz5i8n"
    assert v.line == "WIFI Password / 9PJz5i8n"


@pytest.mark.parametrize("ocr, label", [
    ("Network: Cafe / Password: abc123", "password"),
    ("Wi-Fi password: abc123", "wi-fi password"),
    ("WIFI PASSWORD = abc123", "wi-fi password"),
])
def test_after_label_on_the_same_row(ocr, label):
    assert after_label(rows(ocr), label).text == "abc123"


def test_after_label_missing():
    assert after_label(rows("Thank you"), "wi-fi password") is None
    assert after_label(rows("WIFI Password"), "wi-fi password") is None  # nothing follows it
    assert after_label(rows("id 12"), "id") is None  # too short a label to look for


def test_number_near_against():
    assert number_near("331 in favour, 225 against.", {"against"}).text == "225"


def test_number_near_favour():
    assert number_near("331 in favour, 225 against.", {"favour"}).text == "331"


def test_number_near_nothing():
    assert number_near("The motion passed.", {"against"}) is None


def test_phones_found_and_dates_and_amounts_not():
    text = "Call 027-88852022 or (714) 879-3574. Date 12/30/2016 total $60.44"
    assert phones(text) == ["027-88852022", "(714) 879-3574"]
    assert phones("12/30/2016") == []
    assert phones("$60.44") == []
    assert phones("20161230") == []  # a date written as digits


@pytest.mark.parametrize("number", ["+351 912 345 678", "+44 20 7946 0958"])
def test_phones_international_in_groups(number):
    assert phones(f"Reservations {number}") == [number]


@pytest.mark.parametrize("seconds, shown", [
    (458.1, "7:38"), (3725, "1:02:05"), (0, "0:00"), (59.6, "1:00"), (3600, "1:00:00"),
])
def test_clock_of(seconds, shown):
    assert clock_of(seconds) == shown


@pytest.mark.parametrize("seconds, said", [
    (900, "15 min"), (42, "42 s"), (0, "0 s"), (59.6, "1 min"), (60, "1 min"), (125, "2 min 5 s"),
    (3600, "1 h"), (3900, "1 h 5 min"), (7199, "1 h 59 min"),
])
def test_duration_words(seconds, said):
    assert duration_words(seconds) == said
