"""The names the central and the member side meet by."""
import pytest

from log_constructs import PropError
from log_constructs.organization import (check_account_id, check_organization_id, check_region, destination_arn,
                                         parse_destination_arn)


def test_destination_arn_is_built_from_names_and_parses_back():
    # GIVEN / WHEN
    arn = destination_arn(account="111122223333", region="eu-west-1")
    # THEN
    assert arn == "arn:aws:logs:eu-west-1:111122223333:destination:log-constructs-central"
    assert parse_destination_arn("X", "destination_arn", arn) == {
        "partition": "aws", "region": "eu-west-1", "account": "111122223333", "name": "log-constructs-central"}


@pytest.mark.parametrize("bad", ["1234", "12345678901a", "1111222233334", 111122223333])
def test_account_ids_must_be_12_digits(bad):
    with pytest.raises(PropError, match=r"X: source_accounts must be 12-digit AWS account ids, got "):
        check_account_id("X", "source_accounts", bad)


@pytest.mark.parametrize("bad", ["o-short", "O-ABCDEFGHIJ", "r-abcdefghij", "o-abcdefghij!"])
def test_organization_ids_have_their_shape(bad):
    with pytest.raises(PropError, match=r"X: organization_id must be an AWS Organizations id"):
        check_organization_id("X", "organization_id", bad)
    check_organization_id("X", "organization_id", "o-a1b2c3d4e5")


@pytest.mark.parametrize("bad", ["eu-west", "EU-WEST-1", "mars"])
def test_regions_are_checked(bad):
    with pytest.raises(PropError, match=r"X: source_regions must be AWS region names"):
        check_region("X", "source_regions", bad)
    check_region("X", "source_regions", "us-gov-west-1")


def test_a_non_destination_arn_is_refused():
    with pytest.raises(PropError, match=r"X: destination_arn must be a CloudWatch Logs destination ARN"):
        parse_destination_arn("X", "destination_arn", "arn:aws:kinesis:eu-west-1:111122223333:stream/x")
