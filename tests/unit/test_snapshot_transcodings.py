"""Snapshot transcodings (``domain/snapshots.py``): every value object a connection's state
holds comes back from the application's transcoder exactly (types, tuples, None), so a
snapshot can always be taken; a registration with carriers and throughput (issue 31) was
the one that could not be (``TranscodingNotRegisteredError``, logged and skipped)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.application import SmsChannels
from domain.carriers import CarrierState, Throughput
from domain.registration_levels import LevelState, Reason

CARRIERS = st.sampled_from(["att", "tmobile", "verizon", "uscellular", "other"])
STATUSES = st.sampled_from(["pending", "approved", "rejected", "suspended", "expired"])
TEXT = st.text(max_size=12)
REASON_DICTS = st.fixed_dictionaries(
    {"code": TEXT, "description": TEXT, "fields": st.lists(TEXT, max_size=2)}
)
CARRIER_STATES = st.builds(
    CarrierState, CARRIERS, STATUSES, st.lists(REASON_DICTS, max_size=2).map(tuple)
)
THROUGHPUTS = st.builds(
    Throughput,
    st.none() | st.integers(0, 100),
    st.none() | TEXT,
    st.none() | st.integers(0, 10**6),
    st.none() | TEXT,
    st.none() | st.integers(0, 10**5),
)
LEVELS = st.builds(
    LevelState,
    status=st.sampled_from(["pending", "approved", "rejected", "action_required"]),
    raw_status=st.none() | TEXT,
    provider_ref=st.none() | TEXT,
    reasons=st.lists(
        st.builds(Reason, TEXT, TEXT, st.lists(TEXT, max_size=2).map(tuple)), max_size=2
    ).map(tuple),
    carriers=st.none() | st.lists(CARRIER_STATES, max_size=3).map(tuple),
    throughput=st.none() | THROUGHPUTS,
)


# The transcoder holds no state between examples: one app serves them all.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(level=LEVELS)
def test_a_level_with_carriers_and_throughput_comes_back_exactly(
    memory_app: SmsChannels, level: LevelState
) -> None:
    transcoder = memory_app.mapper.transcoder
    assert transcoder.decode(transcoder.encode({"level": level})) == {"level": level}


def test_a_carrier_refusal_with_its_reasons_survives_the_round_trip(
    memory_app: SmsChannels,
) -> None:
    transcoder = memory_app.mapper.transcoder
    level = LevelState(
        status="rejected",
        carriers=(
            CarrierState("att", "approved"),
            CarrierState("tmobile", "rejected", ({"code": "30892", "description": "x"},)),
        ),
        throughput=Throughput(brand_score=42, tmobile_tier="LOW"),
    )
    back = transcoder.decode(transcoder.encode(level))
    assert back == level
    assert isinstance(back.carriers, tuple)
    assert type(back.throughput) is Throughput
