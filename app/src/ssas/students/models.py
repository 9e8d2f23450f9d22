from django.db import models

from ssas.ml.careers import AREA_CHOICES


class School(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AcademicYear(models.Model):
    name = models.CharField(max_length=20, unique=True)  # e.g. "2024/2025"
    start_date = models.DateField()
    end_date = models.DateField()
    is_current = models.BooleanField(default=False)

    class Meta:
        ordering = ["-start_date"]

    def __str__(self) -> str:
        return self.name


class Subject(models.Model):
    code = models.SlugField(max_length=20, unique=True)
    name = models.CharField(max_length=100)
    # Empty: matched from the code and name (ssas.ml.careers); set it where that guesses
    # wrong. Takes effect at the next training.
    career_area = models.CharField(
        max_length=30, blank=True, default="", choices=AREA_CHOICES,
        help_text="The career area this subject counts for; empty: matched from its code "
                  "and name. Used from the next training on.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Student(models.Model):
    class Gender(models.TextChoices):
        FEMALE = "F", "Female"
        MALE = "M", "Male"
        OTHER = "O", "Other / not stated"

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="students")
    student_id = models.CharField(max_length=40)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    grade = models.PositiveSmallIntegerField()
    class_name = models.CharField(max_length=20, blank=True)
    gender = models.CharField(max_length=1, choices=Gender.choices, default=Gender.OTHER)
    date_of_birth = models.DateField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "student_id"], name="uniq_student_per_school"
            ),
        ]
        indexes = [models.Index(fields=["school", "grade", "class_name"])]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name} ({self.student_id})"


class StudentScore(models.Model):
    class Term(models.IntegerChoices):
        FIRST = 1
        SECOND = 2
        THIRD = 3

    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="scores")
    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="scores")
    academic_year = models.ForeignKey(AcademicYear, on_delete=models.PROTECT, related_name="scores")
    term = models.PositiveSmallIntegerField(choices=Term.choices, default=Term.FIRST)
    continuous_assessment = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    exam_score = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    total_score = models.DecimalField(max_digits=5, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["student", "subject", "academic_year", "term"], name="uniq_score_per_term"
            ),
        ]
        # The scaling guide's index set, unchanged.
        indexes = [
            models.Index(fields=["student", "subject"]),
            models.Index(fields=["academic_year"]),
            models.Index(fields=["total_score"]),
            models.Index(fields=["student", "academic_year", "subject"]),
            models.Index(fields=["created_at", "total_score"]),
            models.Index(fields=["subject", "academic_year", "total_score"]),
            models.Index(fields=["academic_year", "created_at"]),
            models.Index(
                fields=["total_score"],
                condition=models.Q(total_score__gte=80),
                name="high_scores_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student_id}/{self.subject_id}/{self.academic_year_id}: {self.total_score}"
