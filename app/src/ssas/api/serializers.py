from rest_framework import serializers

from ssas.ml.models import BatchJob, TrainingRun
from ssas.reports.models import Report
from ssas.students.models import AcademicYear, School, Student, StudentScore, Subject


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


class SchoolSerializer(serializers.ModelSerializer):
    class Meta:
        model = School
        fields = ["id", "code", "name"]


class AcademicYearSerializer(serializers.ModelSerializer):
    class Meta:
        model = AcademicYear
        fields = ["id", "name", "start_date", "end_date", "is_current"]

    def validate(self, attrs):
        start = attrs.get("start_date", getattr(self.instance, "start_date", None))
        end = attrs.get("end_date", getattr(self.instance, "end_date", None))
        if start and end and start >= end:
            raise serializers.ValidationError({"end_date": "must be after start_date"})
        return attrs


class SubjectSerializer(serializers.ModelSerializer):
    class Meta:
        model = Subject
        fields = ["id", "code", "name"]

    def validate_code(self, code):
        # One subject per code whatever its case, as the import matches them.
        clash = Subject.objects.filter(code__iexact=code)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError(f"subject {clash.first().code} exists already")
        return code


class ScoreWriteSerializer(serializers.ModelSerializer):
    """A score by the student's id, the subject's code and the academic year's name; a
    missing total is continuous_assessment + exam_score, as in the import."""

    subject = serializers.SlugRelatedField(slug_field="code", queryset=Subject.objects.all())
    academic_year = serializers.SlugRelatedField(slug_field="name",
                                                 queryset=AcademicYear.objects.all())
    total_score = serializers.DecimalField(max_digits=5, decimal_places=2, required=False,
                                           min_value=0, max_value=100)
    continuous_assessment = serializers.DecimalField(max_digits=5, decimal_places=2,
                                                     required=False, min_value=0,
                                                     max_value=100)
    exam_score = serializers.DecimalField(max_digits=5, decimal_places=2, required=False,
                                          min_value=0, max_value=100)

    class Meta:
        model = StudentScore
        fields = ["id", "student", "subject", "academic_year", "term",
                  "continuous_assessment", "exam_score", "total_score"]

    def validate(self, attrs):
        if "total_score" not in attrs and self.instance is None:
            parts = [attrs.get("continuous_assessment"), attrs.get("exam_score")]
            if parts == [None, None]:
                raise serializers.ValidationError(
                    {"total_score": "give total_score, or continuous_assessment and "
                                    "exam_score"})
            attrs["total_score"] = sum(p for p in parts if p is not None)
            if attrs["total_score"] > 100:
                raise serializers.ValidationError(
                    {"total_score": "continuous_assessment + exam_score is over 100"})
        return attrs


class BatchJobSerializer(serializers.ModelSerializer):
    class Meta:
        model = BatchJob
        fields = ["id", "school", "status", "requested_by", "total_students",
                  "processed_students", "anomalies_found", "error", "created_at",
                  "started_at", "finished_at"]
        read_only_fields = fields


class TrainingRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = TrainingRun
        fields = ["id", "trigger", "requested_by", "status", "students", "versions", "metrics",
                  "error", "created_at", "finished_at"]
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
