"""Question.search_text and answer_key (issue 25): the diacritics- and case-insensitive text the bank's search matches, filled
for existing questions; on PostgreSQL a trigram (pg_trgm) GIN index serves its substring matches. Where the
extension cannot be created (no privilege) the index is skipped with a notice: search still works, by scan."""

import logging

from django.db import migrations, models

logger = logging.getLogger(__name__)

INDEX = "questionbank_question_search_trgm"


def fill(apps, schema_editor):
    from questionbank.dedupe import answer_key, normalise, question_search_text, question_text
    from questionbank.sanitize import html_to_text

    Question = apps.get_model("questionbank", "Question")
    Option = apps.get_model("questionbank", "QuestionOption")
    last = 0
    while True:
        batch = list(Question.objects.filter(pk__gt=last).order_by("pk")[:1000])
        if not batch:
            break
        texts: dict[int, list[str]] = {}
        correct: dict[int, list[str]] = {}
        for qid, text, fraction in (Option.objects.filter(question_id__in=[q.pk for q in batch])
                                    .order_by("question_id", "position", "id")
                                    .values_list("question_id", "text", "fraction")):
            texts.setdefault(qid, []).append(text)
            if fraction > 0:
                correct.setdefault(qid, []).append(html_to_text(text))
        for q in batch:
            parts = []
            if q.citation_clause:
                parts.append(f"Khoản {q.citation_clause}")
            if q.citation_article:
                parts.append(f"Điều {q.citation_article}")
            if q.citation_document:
                parts.append(q.citation_document)
            q.search_text = question_search_text(normalise(question_text(q.stem, texts.get(q.pk, []))),
                                                 citation=", ".join(parts))
            q.answer_key = answer_key(citation_document=q.citation_document, citation_article=q.citation_article,
                                      correct_texts=correct.get(q.pk, []))
        Question.objects.bulk_update(batch, ["search_text", "answer_key"])
        last = batch[-1].pk


def trigram_index(apps, schema_editor):
    from django.db import transaction

    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias), schema_editor.connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception as exc:  # no privilege to create extensions: search scans instead
        logger.warning("pg_trgm unavailable, the question search index is skipped: %s", exc)
        return
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON questionbank_question "
                          "USING gin (search_text gin_trgm_ops)")


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):

    dependencies = [
        ('questionbank', '0004_similaritykey_verbose_names'),
    ]

    operations = [
        migrations.AddField(
            model_name='question',
            name='search_text',
            field=models.TextField(blank=True, default='', editable=False),
        ),
        migrations.AddField(
            model_name='question',
            name='answer_key',
            field=models.CharField(blank=True, db_index=True, default='', editable=False, max_length=40),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.RunPython(trigram_index, drop_index),
    ]
