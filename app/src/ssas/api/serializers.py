from rest_framework import serializers

from ssas.ml.models import BatchJob
from ssas.reports.models import Report
from ssas.students.models import School, Student, StudentScore


class SchoolField(serializers.PrimaryKeyRelatedField):
    """A school given by its id (42) or its code ("north-high"), like the `?school=` filters."""

    default_error_messages = {
        **serializers.PrimaryKeyRelatedField.default_error_messages,
        "does_not_exist": "No school has id or code '{pk_value}'.",
    }

    def __init__(self, **kwargs):
        super().__init__(queryset=School.objects.all(), **kwargs)

    def to_internal_value(self, data):
        text = str(data).strip()
        if text.isdigit():
            return super().to_internal_value(int(text))
        school = School.objects.filter(code=text).first()
        if school is None:
            self.fail("does_not_exist", pk_value=text)
        return school


class StudentSerializer(serializers.ModelSerializer):
    school_code = serializers.CharField(source="school.code", read_only=True)

    class Meta:
        model = Student
        fields = ["id", "school", "school_code", "student_id", "first_name", "last_name",
                  "grade", "class_name", "gender", "date_of_birth", "is_active"]


class ScoreSerializer(serializers.ModelSerializer):
    subject = serializers.CharField(source="subject.code")
    academic_year = serializers.CharField(source="academic_year.name")

    class Meta:
        model = StudentScore
        fields = ["id", "subject", "academic_year", "term", "continuous_assessment",
                  "exam_score", "total_score", "created_at"]


class BatchJobSerializer(serializers.ModelSerializer):
    class Meta:
        model = BatchJob
        fields = ["id", "school", "status", "requested_by", "total_students",
                  "processed_students", "anomalies_found", "error", "created_at",
                  "started_at", "finished_at"]
        read_only_fields = fields


class BatchRequestSerializer(serializers.Serializer):
    school = SchoolField(required=False, allow_null=True)


class ReportSerializer(serializers.ModelSerializer):
    school = SchoolField(required=False, allow_null=True)

    class Meta:
        model = Report
        fields = ["id", "kind", "school", "params", "status", "requested_by", "row_count",
                  "error", "created_at", "finished_at"]
        read_only_fields = ["id", "status", "requested_by", "row_count", "error",
                            "created_at", "finished_at"]
