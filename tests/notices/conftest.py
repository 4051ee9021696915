import pytest

from tests.notices.mailstub import SendGridStub


@pytest.fixture
def sendgrid_stub():
    with SendGridStub() as stub:
        yield stub
