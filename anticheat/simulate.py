"""A synthetic closed round of citizens, with the evidence a real one leaves — for the false-positive test
(tests/anticheat/test_population.py), the scripted cheaters that need a crowd around them, and
bench/anticheat.py. Never used by the running engine.

The honest population (docs/anti-cheat.md, "Normal population"):
- ability θ ~ N(0, 1); a question's difficulty b ~ N(−1, 1) (legal quizzes are easy); P(right) =
  1 / (1 + e^(−1.7(θ − b))); a wrong answer picks a distractor by its popularity (Dirichlet(1, 1, 1) per
  question), so some wrong options are common and some rare;
- reading: each question has 120–420 characters; a person reads at 15 characters/s × a personal speed factor
  (log-normal, σ 0.3); the time on a question is reading × log-normal(σ 0.5) + 2–8 s of thinking;
- starts spread over the round with a busy evening hour; 60 % on mobile carriers whose public addresses
  come from 20 shared /24 networks (carrier-grade NAT), the rest at home (10 % share the home network
  with one to three others); everyone has their own device cookie, 2 % share a phone with a relative;
  5 % reconnect once from the same device, 3 % of them on another network; 0.5 % continue on a second
  device later;
- client evidence: page hidden ~ Poisson(0.8), blur ~ Poisson(0.3), 2 % copy once or twice, reloads
  ~ Poisson(0.1); predictions log-uniform between 50 and 50,000;
- names from the common Vietnamese family, middle and given names, birth dates 1960–2008, 50 units.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import random
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import CitizenProfile, Organisation, OrganisationKind, User
from anticheat.models import ClientEvent, ConnectionEvidence, SignupEvidence
from contests.models import Attempt, AttemptStatus, Contest, ContestVisibility, Registration, Round
from questionbank.models import Question, QuestionOption, QuestionStatus, Visibility

FAMILY = [("Nguyễn", 38), ("Trần", 11), ("Lê", 9.5), ("Phạm", 7), ("Hoàng", 3), ("Huỳnh", 2), ("Phan", 4.5),
          ("Vũ", 2), ("Võ", 2), ("Đặng", 2), ("Bùi", 2), ("Đỗ", 1.4), ("Hồ", 1.3), ("Ngô", 1.3), ("Dương", 1),
          ("Lý", 0.5), ("Trương", 1), ("Đinh", 1), ("Lâm", 0.7), ("Mai", 0.6)]
MIDDLE_MALE = ["Văn", "Hữu", "Minh", "Đức", "Quốc", "Thanh", "Công", "Hoàng", "Xuân", "Ngọc", "Trọng", "Anh"]
MIDDLE_FEMALE = ["Thị", "Ngọc", "Thanh", "Thu", "Kim", "Mỹ", "Hồng", "Bích", "Minh", "Phương", "Diệu", "Khánh"]
GIVEN_MALE = ["An", "Bình", "Cường", "Dũng", "Duy", "Hải", "Hiếu", "Hoàng", "Hùng", "Huy", "Khang", "Khoa",
              "Long", "Minh", "Nam", "Nghĩa", "Phong", "Phúc", "Quang", "Sơn", "Tài", "Thắng", "Thành", "Toàn",
              "Trung", "Tuấn", "Việt", "Vinh", "Khôi", "Lộc", "Đạt", "Tâm", "Tín", "Trí", "Vũ"]
GIVEN_FEMALE = ["Anh", "Chi", "Dung", "Giang", "Hà", "Hạnh", "Hằng", "Hiền", "Hoa", "Hương", "Lan", "Linh",
                "Loan", "Mai", "My", "Nga", "Ngân", "Nhung", "Oanh", "Phương", "Quỳnh", "Thảo", "Thủy", "Trang",
                "Trinh", "Tuyết", "Uyên", "Vân", "Vy", "Yến", "Thư", "Ngọc", "Diễm", "Nhi", "Hồng"]
PASSWORD = "!"  # noqa: S105 — an unusable password hash (Django never matches "!")


@dataclass
class SimQuestion:
    pk: int
    difficulty: float
    chars: int
    right: int  # option id
    wrong: list[int]
    popularity: list[float]


@dataclass
class SimRound:
    round: Round
    questions: list[SimQuestion]
    units: list[Organisation]
    attempts: list[int] = field(default_factory=list)
    users: list[int] = field(default_factory=list)
    honest_attempts: set[int] = field(default_factory=set)


def _name(rng: random.Random) -> str:
    family = rng.choices([f for f, _ in FAMILY], weights=[w for _, w in FAMILY])[0]
    if rng.random() < 0.5:
        return f"{family} {rng.choice(MIDDLE_MALE)} {rng.choice(GIVEN_MALE)}"
    return f"{family} {rng.choice(MIDDLE_FEMALE)} {rng.choice(GIVEN_FEMALE)}"


def round_create(*, organisation: Organisation | None = None, questions: int = 40, per_attempt: int = 20,
                 units: int = 50, seed: int = 1, now: dt.datetime | None = None) -> SimRound:
    """A contest with a closed round (opened 7 days ago, closed an hour ago) and its question bank."""
    rng = random.Random(seed)
    now = now or timezone.now()
    tag = uuid.uuid4().hex[:8]
    organisation = organisation or Organisation.objects.create(name=f"Sở Tư pháp (mô phỏng {tag})",
                                                               slug=f"sim-{tag}", kind=OrganisationKind.DEPARTMENT)
    unit_rows = Organisation.objects.bulk_create([
        Organisation(name=f"Phường mô phỏng {tag}-{i}", slug=f"sim-{tag}-u{i}", kind=OrganisationKind.WARD)
        for i in range(units)])
    contest = Contest.objects.create(organisation=organisation, title=f"Cuộc thi mô phỏng {tag}", slug=f"sim-{tag}",
                                     visibility=ContestVisibility.PUBLISHED, prediction_enabled=True,
                                     blueprint=[{"topic_id": None, "difficulty": None, "count": per_attempt,
                                                 "points": None}])
    round_ = Round.objects.create(contest=contest, name="Tuần mô phỏng", opens_at=now - dt.timedelta(days=7),
                                  closes_at=now - dt.timedelta(hours=1), closed_at=now - dt.timedelta(minutes=30),
                                  prediction_target_value=1000)
    sim_questions = []
    for i in range(questions):
        chars = rng.randint(120, 420)
        stem = "<p>" + ("Theo quy định của pháp luật hiện hành, " * 20)[: max(40, chars - 160)] + f" ({i})?</p>"
        question = Question.objects.create(organisation=organisation, visibility=Visibility.SHARED, type="single",
                                           stem=stem, status=QuestionStatus.APPROVED, is_current=True,
                                           difficulty="medium")
        options = QuestionOption.objects.bulk_create([
            QuestionOption(question=question, position=p, text=f"Phương án {'ABCD'[p]}: " + "nội dung " * 4,
                           fraction=Decimal(1 if p == 0 else 0)) for p in range(4)])
        popularity = [rng.gammavariate(1, 1) for _ in range(3)]
        total = sum(popularity)
        real_chars = len(stem) - 7 + sum(len(o.text) for o in options)
        sim_questions.append(SimQuestion(pk=question.pk, difficulty=rng.gauss(-1, 1), chars=real_chars,
                                         right=options[0].pk, wrong=[o.pk for o in options[1:]],
                                         popularity=[p / total for p in popularity]))
    return SimRound(round=round_, questions=sim_questions, units=unit_rows)


@dataclass
class Person:
    name: str
    born: dt.date
    unit: int
    ability: float
    speed: float
    network: str
    address: str
    device: str
    started: dt.datetime
    prediction: int
    answers: list[tuple[int, int, float]] | None = None  # (question index, option id, seconds) forced
    connections: list[tuple[float, str, str, str, bool]] = field(default_factory=list)  # (at s, addr, net, dev, repl)
    client: dict[str, int] = field(default_factory=dict)
    honest: bool = True


def honest_people(sim: SimRound, count: int, *, seed: int = 2) -> list[Person]:
    rng = random.Random(seed)
    opens = sim.round.opens_at
    span = (sim.round.closes_at - dt.timedelta(hours=1) - opens).total_seconds()
    carrier_nets = [f"10{k % 10}.{rng.randint(16, 250)}.{rng.randint(0, 255)}" for k in range(20)]
    homes: list[str] = []
    people = []
    for _ in range(count):
        if rng.random() < 0.6:
            prefix = rng.choice(carrier_nets)
        elif homes and rng.random() < 0.1:
            prefix = rng.choice(homes)
        else:
            prefix = f"{rng.randint(113, 125)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}"
            homes.append(prefix)
        address = f"{prefix}.{rng.randint(1, 254)}"
        if rng.random() < 0.2:  # the busy evening hour of the last day
            started = opens + dt.timedelta(days=5, hours=20, seconds=rng.uniform(0, 3600))
        else:
            started = opens + dt.timedelta(seconds=rng.uniform(0, span))
        device = uuid.UUID(int=rng.getrandbits(128)).hex
        if people and rng.random() < 0.02:
            device = people[-1].device  # a phone shared with a relative
        person = Person(name=_name(rng), born=dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(17_500)),
                        unit=rng.randrange(len(sim.units)), ability=rng.gauss(0, 1),
                        speed=math.exp(rng.gauss(0, 0.3)), network=f"{prefix}.0/24", address=address, device=device,
                        started=started, prediction=int(math.exp(rng.uniform(math.log(50), math.log(50_000)))))
        person.connections.append((0.5, address, person.network, device, False))
        if rng.random() < 0.05:
            other = address if rng.random() < 0.4 else f"{rng.choice(carrier_nets)}.{rng.randint(1, 254)}"
            person.connections.append((rng.uniform(30, 200), other, other.rsplit(".", 1)[0] + ".0/24", device, False))
        if rng.random() < 0.005:
            person.connections.append((rng.uniform(100, 300), address, person.network, uuid.uuid4().hex, False))
        person.client = {"hidden": _poisson(rng, 0.8), "blur": _poisson(rng, 0.3), "reload": _poisson(rng, 0.1),
                         "copy": rng.choice([1, 2]) if rng.random() < 0.02 else 0}
        people.append(person)
    return people


def _poisson(rng: random.Random, lam: float) -> int:
    k, p, limit = 0, 1.0, math.exp(-lam)
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _honest_answers(rng: random.Random, sim: SimRound, person: Person,
                    per_attempt: int) -> list[tuple[int, int, float]]:
    chosen = rng.sample(range(len(sim.questions)), per_attempt)
    out = []
    for index in chosen:
        q = sim.questions[index]
        right = rng.random() < 1 / (1 + math.exp(-1.7 * (person.ability - q.difficulty)))
        option = q.right if right else rng.choices(q.wrong, weights=q.popularity)[0]
        seconds = q.chars / (15 * person.speed) * math.exp(rng.gauss(0, 0.5)) + rng.uniform(2, 8)
        out.append((index, option, seconds))
    return out


def people_store(sim: SimRound, people: list[Person], *, per_attempt: int, seed: int = 3,
                 users: list[User] | None = None) -> list[int]:
    """Users (unless ``users`` are given), profiles, registrations, finished attempts, their questions and
    answers, and the evidence. Returns the attempt ids, in the order of ``people``."""
    rng = random.Random(seed)
    tag = uuid.uuid4().hex[:8]
    contest = sim.round.contest
    with transaction.atomic():
        if users is None:
            users = User.objects.bulk_create([
                User(username=f"sim-{tag}-{i}", password=PASSWORD, full_name=p.name) for i, p in enumerate(people)],
                batch_size=5000)
            CitizenProfile.objects.bulk_create([
                CitizenProfile(user=u, date_of_birth=p.born, unit=sim.units[p.unit])
                for u, p in zip(users, people, strict=True)], batch_size=5000)
        registrations = Registration.objects.bulk_create([
            Registration(user=u, contest=contest, unit=sim.units[p.unit], full_name=p.name, date_of_birth=p.born)
            for u, p in zip(users, people, strict=True)], batch_size=5000)
        plans = [p.answers if p.answers is not None else _honest_answers(rng, sim, p, per_attempt) for p in people]
        attempts = []
        for u, r, p, plan in zip(users, registrations, people, plans, strict=True):
            baseline = p.started + dt.timedelta(seconds=0.5)
            total = sum(s for _, _, s in plan)
            correct = sum(1 for i, o, _ in plan if sim.questions[i].right == o)
            submitted = baseline + dt.timedelta(seconds=total + rng.uniform(1, 10))
            attempts.append(Attempt(round=sim.round, registration=r, user=u, unit=sim.units[p.unit], number=1,
                                    status=AttemptStatus.SUBMITTED, started_at=p.started,
                                    deadline=p.started + dt.timedelta(minutes=30), submitted_at=submitted,
                                    submit_kind="client", score=Decimal(correct), correct_count=correct,
                                    question_count=len(plan),
                                    duration_ms=int((submitted - p.started).total_seconds() * 1000),
                                    prediction=p.prediction))
        attempts = Attempt.objects.bulk_create(attempts, batch_size=5000)
        sim.attempts.extend(a.pk for a in attempts)
        sim.users.extend(u.pk for u in users)
        sim.honest_attempts.update(a.pk for a, p in zip(attempts, people, strict=True) if p.honest)
        _copy_questions_and_answers(sim, attempts, plans)
        ConnectionEvidence.objects.bulk_create([
            ConnectionEvidence(attempt=a, round_id=sim.round.pk, user_id=a.user_id,
                               at=a.started_at + dt.timedelta(seconds=at), address=addr, network=net, device=dev,
                               user_agent="Mozilla/5.0 (Linux; Android 14) Chrome/131.0 Mobile", replaced=rep)
            for a, p in zip(attempts, people, strict=True) for at, addr, net, dev, rep in p.connections],
            batch_size=5000)
        ClientEvent.objects.bulk_create([
            ClientEvent(attempt=a, kind=kind, count=n, first_at=a.started_at, last_at=a.submitted_at,
                        times=[int(a.started_at.timestamp() * 1000) + 1000 * k for k in range(min(n, 50))],
                        positions=[None] * min(n, 50))
            for a, p in zip(attempts, people, strict=True) for kind, n in p.client.items() if n], batch_size=5000)
    return [a.pk for a in attempts]


def _copy_questions_and_answers(sim: SimRound, attempts: list[Attempt], plans: list) -> None:
    """AttemptQuestion, Answer and AnswerEvent rows through COPY (millions of rows for the benchmark)."""
    total = sum(len(p) for p in plans)
    with connection.cursor() as cursor:  # reserve ``total`` ids of the sequence (no concurrent writer here)
        cursor.execute("SELECT nextval(pg_get_serial_sequence('contests_attemptquestion', 'id'))")
        next_id = cursor.fetchone()[0]
        cursor.execute("SELECT setval(pg_get_serial_sequence('contests_attemptquestion', 'id'), %s)",
                       [next_id + total])
    snapshots = {}
    for q in sim.questions:
        snapshots[q.pk] = ('{"type": "single", "stem": "", "options": [' + ", ".join(
            f'{{"id": {o}, "text": ""}}' for o in [q.right, *q.wrong]) + "]}",
                           '{"options": {' + ", ".join(f'"{o}": "{1 if o == q.right else 0}"' for o in
                                                       [q.right, *q.wrong]) + "}}")
    aq, answers, events = io.StringIO(), io.StringIO(), io.StringIO()
    for attempt, plan in zip(attempts, plans, strict=True):
        at = attempt.started_at + dt.timedelta(seconds=0.5)
        for position, (index, option, seconds) in enumerate(plan, start=1):
            q = sim.questions[index]
            at = at + dt.timedelta(seconds=seconds)
            snapshot, key = snapshots[q.pk]
            aq.write(f"{next_id}\t{attempt.pk}\t{position}\t{q.pk}\t{_copy_text(snapshot)}\t{_copy_text(key)}\t1.00\t\\N\n")
            ok = "t" if option == q.right else "f"
            stamp = at.isoformat()
            answers.write(f"{attempt.pk}\t{next_id}\t{{\"options\": [{option}]}}\t{position}\t{stamp}\t1\t{ok}\t"
                          f"{1 if ok == 't' else 0}\n")
            events.write(f"{attempt.pk}\t{position}\t{position}\t{stamp}\tstored\n")
            next_id += 1
    connection.ensure_connection()
    raw = connection.connection
    with raw.cursor() as cursor:
        with cursor.copy("COPY contests_attemptquestion (id, attempt_id, position, question_id, snapshot, key, points, "
                         "shown_at) FROM STDIN") as copy:
            copy.write(aq.getvalue())
        with cursor.copy("COPY contests_answer (attempt_id, attempt_question_id, response, client_seq, received_at, "
                         "revision, is_correct, points_awarded) FROM STDIN") as copy:
            copy.write(answers.getvalue())
        with cursor.copy("COPY anticheat_answerevent (attempt_id, position, seq, at, status) FROM STDIN") as copy:
            copy.write(events.getvalue())


def _copy_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


# --- scripted cheaters that need a crowd -------------------------------------------------------------------
def copy_ring(sim: SimRound, size: int = 5, *, seed: int = 11, per_attempt: int = 20) -> list[Person]:
    """``size`` accounts answering the same questions with the same answers — a weak source's eight wrong
    answers, on its questions' least popular wrong options, included — within minutes of each other, from
    different networks."""
    rng = random.Random(seed)
    base = honest_people(sim, size, seed=seed)
    chosen = rng.sample(range(len(sim.questions)), per_attempt)
    plan = []
    for k, index in enumerate(chosen):
        q = sim.questions[index]
        rare = q.wrong[min(range(3), key=lambda w: q.popularity[w])]
        plan.append((index, rare if k < 8 else q.right, 25.0))
    start = base[0].started
    for i, person in enumerate(base):
        person.honest = False
        person.started = start + dt.timedelta(minutes=2 * i)
        person.answers = [(index, option, seconds + rng.uniform(-5, 5)) for index, option, seconds in plan]
    return base


def prediction_farm(sim: SimRound, size: int = 20, *, seed: int = 12, first: int = 1000) -> list[Person]:
    """``size`` accounts from one network within half an hour, predictions ``first`` … ``first + size − 1``."""
    base = honest_people(sim, size, seed=seed)
    start = base[0].started
    for i, person in enumerate(base):
        person.honest = False
        person.prediction = first + i
        person.started = start + dt.timedelta(minutes=1.5 * i)
        person.network, person.address = "198.51.100.0/24", f"198.51.100.{10 + i}"
        person.connections = [(0.5, person.address, person.network, person.device, False)]
    return base


def duplicate_person(sim: SimRound, *, seed: int = 13) -> list[Person]:
    """The same person twice: "Nguyễn Văn Bình" and "nguyen van  binh", one birth date, one unit."""
    a, b = honest_people(sim, 2, seed=seed)
    b.name, a.name = "nguyen van  binh", "Nguyễn Văn Bình"
    b.born, b.unit = a.born, a.unit
    a.honest = b.honest = False
    return [a, b]


def signup_evidence_store(sim: SimRound, people: list[Person], user_ids: list[int]) -> None:
    SignupEvidence.objects.bulk_create([
        SignupEvidence(user_id=u, at=sim.round.opens_at - dt.timedelta(days=30, seconds=i * 9000),
                       address=p.address, network=p.network, device=p.device)
        for i, (u, p) in enumerate(zip(user_ids, people, strict=True))], ignore_conflicts=True, batch_size=5000)
