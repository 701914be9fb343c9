"""Database triggers: a student's `tutor` must have role tutor and `parent` role parent.

A check constraint cannot look at another row, so the rule is a trigger on both databases we run on. The
trigger also stops a linked user's role from changing underneath the link.
"""

from django.db import migrations

SQLITE_FORWARD = [
    """
    CREATE TRIGGER studentprofile_links_insert BEFORE INSERT ON accounts_studentprofile
    WHEN (NEW.tutor_id IS NOT NULL AND (SELECT role FROM accounts_user WHERE id = NEW.tutor_id) != 'tutor')
      OR (NEW.parent_id IS NOT NULL AND (SELECT role FROM accounts_user WHERE id = NEW.parent_id) != 'parent')
    BEGIN SELECT RAISE(ABORT, 'student_link_role: tutor must be a tutor and parent a parent'); END;
    """,
    """
    CREATE TRIGGER studentprofile_links_update BEFORE UPDATE OF tutor_id, parent_id ON accounts_studentprofile
    WHEN (NEW.tutor_id IS NOT NULL AND (SELECT role FROM accounts_user WHERE id = NEW.tutor_id) != 'tutor')
      OR (NEW.parent_id IS NOT NULL AND (SELECT role FROM accounts_user WHERE id = NEW.parent_id) != 'parent')
    BEGIN SELECT RAISE(ABORT, 'student_link_role: tutor must be a tutor and parent a parent'); END;
    """,
    """
    CREATE TRIGGER user_role_linked BEFORE UPDATE OF role ON accounts_user
    WHEN NEW.role != OLD.role AND EXISTS (
      SELECT 1 FROM accounts_studentprofile WHERE tutor_id = NEW.id OR parent_id = NEW.id)
    BEGIN SELECT RAISE(ABORT, 'student_link_role: user is linked to students by role'); END;
    """,
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS studentprofile_links_insert;",
    "DROP TRIGGER IF EXISTS studentprofile_links_update;",
    "DROP TRIGGER IF EXISTS user_role_linked;",
]

POSTGRES_FORWARD = [
    """
    CREATE FUNCTION accounts_check_student_links() RETURNS trigger AS $$
    BEGIN
      IF NEW.tutor_id IS NOT NULL AND (SELECT role FROM accounts_user WHERE id = NEW.tutor_id) <> 'tutor' THEN
        RAISE EXCEPTION 'student_link_role: tutor must be a tutor' USING ERRCODE = '23514';
      END IF;
      IF NEW.parent_id IS NOT NULL AND (SELECT role FROM accounts_user WHERE id = NEW.parent_id) <> 'parent' THEN
        RAISE EXCEPTION 'student_link_role: parent must be a parent' USING ERRCODE = '23514';
      END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql;
    """,
    """
    CREATE TRIGGER studentprofile_links BEFORE INSERT OR UPDATE OF tutor_id, parent_id
    ON accounts_studentprofile FOR EACH ROW EXECUTE FUNCTION accounts_check_student_links();
    """,
    """
    CREATE FUNCTION accounts_check_linked_role() RETURNS trigger AS $$
    BEGIN
      IF NEW.role <> OLD.role AND EXISTS (
        SELECT 1 FROM accounts_studentprofile WHERE tutor_id = NEW.id OR parent_id = NEW.id) THEN
        RAISE EXCEPTION 'student_link_role: user is linked to students by role' USING ERRCODE = '23514';
      END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql;
    """,
    """
    CREATE TRIGGER user_role_linked BEFORE UPDATE OF role ON accounts_user
    FOR EACH ROW EXECUTE FUNCTION accounts_check_linked_role();
    """,
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS user_role_linked ON accounts_user;",
    "DROP FUNCTION IF EXISTS accounts_check_linked_role();",
    "DROP TRIGGER IF EXISTS studentprofile_links ON accounts_studentprofile;",
    "DROP FUNCTION IF EXISTS accounts_check_student_links();",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}),
            _run({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}),
        )
    ]
