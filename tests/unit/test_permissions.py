"""The seed's permissions: the Workspace Admin holds channels.connect and sms.manage, and
either grants channels.read; directory.write is a service permission nobody else implies."""

from __future__ import annotations

import pytest

from api.auth import PERMISSIONS, Principal, RequirePermission
from sms_channels.tokens import WORKSPACE_ADMIN


def principal(*permissions: str) -> Principal:
    return Principal("u1", "acc_1", frozenset(permissions))


def test_the_workspace_admin_holds_connect_and_manage() -> None:
    assert set(WORKSPACE_ADMIN) == {"channels.connect", "sms.manage"}


@pytest.mark.parametrize("held", ["channels.connect", "sms.manage", "channels.read"])
def test_connect_or_manage_grants_read(held: str) -> None:
    assert principal(held).may("channels.read")


def test_read_grants_nothing_else() -> None:
    reader = principal("channels.read")
    assert [p for p in sorted(PERMISSIONS) if reader.may(p)] == ["channels.read"]


def test_only_directory_write_writes_the_directory() -> None:
    everything_else = principal(*(PERMISSIONS - {"directory.write"}))
    assert not everything_else.may("directory.write")
    assert principal("directory.write").may("directory.write")


def test_a_requirement_of_several_permissions_names_them_all() -> None:
    both = RequirePermission("channels.connect", "sms.manage")
    assert both.permissions == ("channels.connect", "sms.manage")
    assert both.permission == "channels.connect and sms.manage"


def test_an_unknown_permission_cannot_be_required() -> None:
    with pytest.raises(ValueError, match="unknown"):
        RequirePermission("channels.admin")
