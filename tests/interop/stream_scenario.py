"""The stream contract driven from Python: three platforms, a consent, a sharing policy, a
publisher, two subscribers, a revocation and its erasure notice. Uses only grpc, protobuf and
the stubs generated from proto/fedhub (the caller puts them on sys.path first).
"""

import queue
import threading
import time

import grpc
from google.protobuf import text_format

from fedhub.v1 import catalogue_pb2, catalogue_pb2_grpc
from fedhub.v1 import common_pb2
from fedhub.v1 import consent_pb2, consent_pb2_grpc
from fedhub.v1 import profile_pb2
from fedhub.v1 import registry_pb2, registry_pb2_grpc
from fedhub.v1 import stream_pb2, stream_pb2_grpc

# Deadline of every unary call.
RPC_TIMEOUT = 10.0
# Longest wait for something a stream should bring.
EVENT_TIMEOUT = 15.0
# Deadline of the streaming calls: a guard against a hang, longer than the whole scenario.
STREAM_DEADLINE = 55.0

INVALID_ARGUMENT = grpc.StatusCode.INVALID_ARGUMENT.value[0]
PROFILE = common_pb2.DATA_CATEGORY_PROFILE
CONTACT = common_pb2.DATA_CATEGORY_CONTACT
INTERESTS = common_pb2.DATA_CATEGORY_INTERESTS


class Failure(Exception):
    """An expectation of the contract did not hold; the message says which and what came."""


def expect(condition, what):
    if not condition:
        raise Failure(what)


def show(message):
    return text_format.MessageToString(message, as_one_line=True) or "(empty)"


def delivered(messages):
    return [event for message in messages for event in message.events]


def cursor_of(messages):
    return max((message.cursor for message in messages), default=0)


class StreamCollector:
    """Reads a server stream on a thread of its own and keeps every message it brings.

    Thread-safety: the reader thread appends under the condition; every other method may be
    called from any thread.
    """

    def __init__(self, name, call):
        self.name = name
        self._call = call
        self._cond = threading.Condition()
        self._messages = []
        self._end = None  # "OK" or "<CODE>: <details>" once the stream has ended
        self._thread = threading.Thread(target=self._read, name=name, daemon=True)
        self._thread.start()

    def _read(self):
        try:
            for message in self._call:
                with self._cond:
                    self._messages.append(message)
                    self._cond.notify_all()
            end = "OK"
        except grpc.RpcError as e:
            end = f"{e.code().name}: {e.details()}"
        with self._cond:
            self._end = end
            self._cond.notify_all()

    def wait_for(self, predicate, what, timeout=EVENT_TIMEOUT):
        """Returns predicate(messages so far) once it is truthy; Failure after `timeout`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                result = predicate(self._messages)
                if result:
                    return result
                if self._end is not None:
                    raise Failure(f"{self.name} ended ({self._end}) before {what}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise Failure(f"{self.name}: no {what} within {timeout:.0f}s")
                self._cond.wait(remaining)

    def wait_until_cursor(self, offset):
        """Waits until the subscriber has read the log up to `offset`; returns its messages."""
        self.wait_for(lambda ms: cursor_of(ms) >= offset, f"cursor reaching offset {offset}")
        return self.messages()

    def wait_for_end(self, timeout=EVENT_TIMEOUT):
        with self._cond:
            if not self._cond.wait_for(lambda: self._end is not None, timeout):
                raise Failure(f"{self.name} did not end within {timeout:.0f}s")
            return self._end

    def messages(self):
        with self._cond:
            return list(self._messages)

    def cancel(self):
        self._call.cancel()
        self._thread.join(EVENT_TIMEOUT)

    def dump(self):
        with self._cond:
            lines = [f"{self.name}: {len(self._messages)} messages, ended: {self._end or 'no'}"]
            lines += [f"  {show(m)}" for m in self._messages]
        return "\n".join(lines)


class Publisher:
    """One Publish stream; batches go out through a queue, acknowledgements are collected.

    Thread-safety: send and close may be called from any one thread at a time.
    """

    def __init__(self, name, stub):
        self._requests = queue.Queue()
        call = stub.Publish(iter(self._requests.get, None), timeout=STREAM_DEADLINE)
        self.acks = StreamCollector(name, call)

    def send(self, batch_id, events):
        """Sends one batch and returns the hub's PublishResponse for it."""
        self._requests.put(stream_pb2.PublishRequest(batch_id=batch_id, events=events))
        return self.acks.wait_for(
            lambda ms: next((m for m in ms if m.batch_id == batch_id), None),
            f"acknowledgement of batch {batch_id}")

    def close(self):
        """Half-closes the stream and expects the hub to end it with OK."""
        self._requests.put(None)
        end = self.acks.wait_for_end()
        expect(end == "OK", f"{self.acks.name} ended with {end} after the client half-closed")

    def abandon(self):
        """Ends the request side without waiting, e.g. after a failure."""
        self._requests.put(None)
        self.acks.cancel()


def profile_change(event_id, version, display_name):
    """u-1's profile at course: PROFILE, CONTACT and INTERESTS replaced."""
    return stream_pb2.PublishEvent(
        event_id=event_id,
        profile=stream_pb2.ProfileChange(
            user=common_pb2.UserRef(local_user_id="u-1"),
            categories=[PROFILE, CONTACT, INTERESTS],
            fields=profile_pb2.ProfileFields(display_name=display_name, email="ada@example.org",
                                             interest_tags=["compilers", "c++"]),
            version=version))


def course_item(item_id, currency="EUR"):
    return catalogue_pb2.CatalogueItem(
        item_id=item_id, kind=catalogue_pb2.ITEM_KIND_COURSE, title=f"Course {item_id}",
        description="Parsing, type checking and code generation.", authors=["A. Lovelace"],
        tags=["compilers", "c++"], price_minor=4900, currency=currency, language="en",
        level=catalogue_pb2.ITEM_LEVEL_INTERMEDIATE, licence="single-seat", version="1.0.0")


def catalogue_change(event_id, item):
    return stream_pb2.PublishEvent(event_id=event_id,
                                   catalogue=stream_pb2.CatalogueChange(item=item))


class StreamScenario:
    """Runs the scenario against a started DevHub. Thread-safety: one thread."""

    PLATFORMS = ("course", "store", "books")

    def __init__(self, hub):
        self._hub = hub
        self._channels = []
        self._collectors = []
        self._publishers = []

    def _channel(self, principal):
        ca, cert, key = self._hub.credentials(principal)
        creds = grpc.ssl_channel_credentials(root_certificates=ca, private_key=key,
                                             certificate_chain=cert)
        # A proxy from the environment must not stand between the test and its loopback hub.
        channel = grpc.secure_channel(self._hub.endpoint, creds,
                                      options=[("grpc.enable_http_proxy", 0)])
        self._channels.append(channel)
        return channel

    @staticmethod
    def _unary(what, method, request):
        try:
            return method(request, timeout=RPC_TIMEOUT)
        except grpc.RpcError as e:
            raise Failure(f"{what} failed: {e.code().name}: {e.details()}") from None

    def _subscribe(self, name, stub):
        call = stub.Subscribe(stream_pb2.SubscribeRequest(after_cursor=0), timeout=STREAM_DEADLINE)
        collector = StreamCollector(name, call)
        self._collectors.append(collector)
        return collector

    def run(self, log):
        operator = registry_pb2_grpc.RegistryServiceStub(self._channel("operator"))
        ch = {p: self._channel(p) for p in self.PLATFORMS}
        streams = {p: stream_pb2_grpc.StreamServiceStub(ch[p]) for p in self.PLATFORMS}
        catalogues = {p: catalogue_pb2_grpc.CatalogueServiceStub(ch[p]) for p in self.PLATFORMS}
        course_consents = consent_pb2_grpc.ConsentServiceStub(ch["course"])

        log("operator registers course, store and books")
        for platform in self.PLATFORMS:
            principal = registry_pb2.Principal(id=platform, role=common_pb2.ROLE_PLATFORM,
                                               display_name=f"Interop {platform}")
            self._unary(f"RegisterPrincipal {platform}", operator.RegisterPrincipal,
                        registry_pb2.RegisterPrincipalRequest(principal=principal))

        log("course records u-1's consent to store: PROFILE + INTERESTS for SYNC")
        granted = self._unary("GrantConsent", course_consents.GrantConsent,
                              consent_pb2.GrantConsentRequest(
                                  user=common_pb2.UserRef(local_user_id="u-1"),
                                  target_platform_id="store", categories=[PROFILE, INTERESTS],
                                  purposes=[common_pb2.PURPOSE_SYNC],
                                  evidence=consent_pb2.ConsentEvidence(method="web-form")))
        consent_id = granted.consent.consent_id
        expect(consent_id.startswith("c-"), f"GrantConsent returned {show(granted.consent)}")

        log("course shares its COURSE items with store")
        policy = catalogue_pb2.SharingPolicy(platform_ids=["store"],
                                             kinds=[catalogue_pb2.ITEM_KIND_COURSE])
        set_policy = self._unary("SetSharingPolicy", catalogues["course"].SetSharingPolicy,
                                 catalogue_pb2.SetSharingPolicyRequest(policy=policy))
        expect(set_policy.policy == policy,
               f"SetSharingPolicy answered {show(set_policy.policy)}, sent {show(policy)}")

        log("store and books subscribe after cursor 0")
        store = self._subscribe("store subscription", streams["store"])
        books = self._subscribe("books subscription", streams["books"])

        log("course publishes u-1's profile and a course item")
        publisher = Publisher("course publish acks", streams["course"])
        self._publishers.append(publisher)
        self._collectors.append(publisher.acks)
        item = course_item("course-101")
        ack = publisher.send(1, [profile_change("p-1", 1, "Ada"), catalogue_change("cat-1", item)])
        expect(ack.WhichOneof("outcome") == "accepted" and len(ack.accepted.offsets) == 2 and
               ack.accepted.duplicates == 0, f"batch 1 answered {show(ack)}")
        profile_offset, item_offset = ack.accepted.offsets

        log("course publishes a batch with an unknown currency: refused whole")
        refused = publisher.send(2, [catalogue_change("cat-2", course_item("course-102")),
                                     catalogue_change("cat-3", course_item("course-103", "EURO"))])
        expect(refused.WhichOneof("outcome") == "refused", f"batch 2 answered {show(refused)}")
        errors = refused.refused.errors
        expect(refused.refused.code == INVALID_ARGUMENT and len(errors) == 1 and
               errors[0].index == 1 and errors[0].event_id == "cat-3" and
               errors[0].code == INVALID_ARGUMENT and
               "catalogue.item.currency" in errors[0].message,
               f"batch 2 refusal does not name events[1]'s catalogue.item.currency as "
               f"INVALID_ARGUMENT: {show(refused)}")

        log("store receives the profile, narrowed to its consent, and the item")
        profile_event = store.wait_for(
            lambda ms: next((e for e in delivered(ms) if e.event_id == "p-1"), None),
            "profile update p-1")
        pseudonym = self._check_narrowed(profile_event, profile_offset, consent_id)
        item_event = store.wait_for(
            lambda ms: next((e for e in delivered(ms) if e.event_id == "cat-1"), None),
            "catalogue update cat-1")
        expect(item_event.offset == item_offset and item_event.publisher_platform_id == "course"
               and item_event.catalogue.item == item and not item_event.catalogue.removed,
               f"catalogue event at offset {item_offset} from course with the published item "
               f"expected, got {show(item_event)}")

        log("books sees neither")
        seen = books.wait_until_cursor(item_offset)
        expect(not delivered(seen), "books was delivered events it has no consent or share for")

        log("course revokes the consent; store gets an erasure notice and acknowledges it")
        revoked = self._unary("RevokeConsent", course_consents.RevokeConsent,
                              consent_pb2.RevokeConsentRequest(
                                  consent_id=consent_id,
                                  user=common_pb2.UserRef(local_user_id="u-1")))
        expect(revoked.consent.state == consent_pb2.CONSENT_STATE_REVOKED,
               f"RevokeConsent returned {show(revoked.consent)}")
        notice_id = f"erasure-{consent_id}"
        notice_event = store.wait_for(
            lambda ms: next((e for e in delivered(ms) if e.WhichOneof("payload") == "erasure"),
                            None),
            f"erasure notice {notice_id}")
        notice = notice_event.erasure
        expect(notice.notice_id == notice_id and notice_event.event_id == notice_id and
               notice.consent_id == consent_id and notice.source_platform_id == "course" and
               sorted(notice.categories) == [PROFILE, INTERESTS] and
               notice.pairwise_pseudonym == pseudonym and
               notice.revoked_at == revoked.consent.revoked_at,
               f"erasure notice {notice_id} from course for PROFILE+INTERESTS of pseudonym "
               f"{pseudonym} revoked at {show(revoked.consent.revoked_at)} expected, "
               f"got {show(notice_event)}")
        request = stream_pb2.AcknowledgeErasureRequest(notice_id=notice_id)
        first = self._unary("AcknowledgeErasure", streams["store"].AcknowledgeErasure, request)
        again = self._unary("AcknowledgeErasure (again)", streams["store"].AcknowledgeErasure,
                            request)
        expect(not first.already_acknowledged and first.HasField("acknowledged_at"),
               f"first acknowledgement answered {show(first)}")
        expect(again.already_acknowledged and again.acknowledged_at == first.acknowledged_at,
               f"second acknowledgement answered {show(again)}; first was {show(first)}")

        log("course publishes u-1's profile again; store gets nothing of it")
        ack = publisher.send(3, [profile_change("p-2", 2, "Ada L.")])
        expect(ack.WhichOneof("outcome") == "accepted" and len(ack.accepted.offsets) == 1,
               f"batch 3 answered {show(ack)}")
        last_offset = ack.accepted.offsets[0]
        after = [e for e in delivered(store.wait_until_cursor(last_offset))
                 if e.offset > notice_event.offset and e.WhichOneof("payload") == "profile"]
        expect(not after, "store received profile events after the erasure notice: " +
               "; ".join(show(e) for e in after))
        store_ids = [e.event_id for e in delivered(store.messages())]
        expect(store_ids == ["p-1", "cat-1", notice_id],
               f"store should have received exactly p-1, cat-1 and {notice_id} (nothing of the "
               f"refused batch 2), got {store_ids}")
        expect(not delivered(books.wait_until_cursor(last_offset)),
               "books was delivered events it has no consent or share for")

        log("ListCatalogue: store lists the item, books nothing")
        listed = self._unary("ListCatalogue as store", catalogues["store"].ListCatalogue,
                             catalogue_pb2.ListCatalogueRequest())
        want = catalogue_pb2.SharedItem(publisher_platform_id="course", item=item,
                                        offset=item_offset)
        expect(list(listed.items) == [want] and not listed.next_page_token,
               f"store's catalogue should be exactly {show(want)}, got {show(listed)}")
        listed = self._unary("ListCatalogue as books", catalogues["books"].ListCatalogue,
                             catalogue_pb2.ListCatalogueRequest())
        expect(not listed.items, f"books' catalogue should be empty, got {show(listed)}")

        log("closing the streams")
        publisher.close()
        store.cancel()
        books.cancel()

    @staticmethod
    def _check_narrowed(event, offset, consent_id):
        """Checks store's view of p-1 and returns the pseudonym it names u-1 by."""
        update = event.profile
        want_fields = profile_pb2.ProfileFields(display_name="Ada",
                                                interest_tags=["compilers", "c++"])
        expect(event.offset == offset and event.publisher_platform_id == "course" and
               event.WhichOneof("payload") == "profile" and
               update.WhichOneof("person") == "pairwise_pseudonym" and
               update.pairwise_pseudonym and
               sorted(update.categories) == [PROFILE, INTERESTS] and
               update.fields == want_fields and
               list(update.consent_ids) == [consent_id, consent_id] and update.version == 1,
               f"p-1 at offset {offset} for a pseudonym with PROFILE+INTERESTS under {consent_id} "
               f"and fields {show(want_fields)} (email removed) expected, got {show(event)}")
        return update.pairwise_pseudonym

    def dump(self):
        """Everything the streams brought, for a failure report."""
        return "\n".join(c.dump() for c in self._collectors)

    def close(self):
        for publisher in self._publishers:
            publisher.abandon()
        for collector in self._collectors:
            collector.cancel()
        for channel in self._channels:
            channel.close()
