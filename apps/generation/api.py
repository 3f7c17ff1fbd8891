"""Generation and description endpoints: the same access helper, selectors and services as the pages.

Jobs are their owner's alone (404 for anyone else); starting one is throttled per user ("generation",
"description" in REST_FRAMEWORK's rates) on top of the service's limit of active jobs per user.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api import ERROR, Pagination, validated
from apps.core.errors import UserError
from apps.generation import selectors, services
from apps.generation.models import Job
from apps.generation.serializers import (
    DescribeSerializer,
    DescribeStartSerializer,
    GeneratedImageSerializer,
    GenerateSerializer,
    JobResultSerializer,
    JobSerializer,
    PreviewSerializer,
)

JOB_ERRORS = {401: ERROR, 404: ERROR}


def job_response(request: Request, job: Job, *, status_code: int = 200) -> Response:
    return Response(JobSerializer(job, context={"request": request}).data, status=status_code)


class GenerateView(APIView):
    permission_classes = [IsAuthenticated]  # limits: the service's hourly quotas and queue cap

    @extend_schema(
        summary="Start generating synthetic images from a prompt",
        description="Queued for the worker; follow it at the job's `url` and fetch the images from its "
        "`result_url`. A few jobs of yours may wait or run at once, and a number per hour (429); when "
        "the queue is full, 503.",
        request=GenerateSerializer,
        responses={201: JobSerializer, 400: ERROR, 401: ERROR, 409: ERROR, 429: ERROR, 503: ERROR},
    )
    def post(self, request: Request) -> Response:
        params = validated(GenerateSerializer, request.data)
        job = services.generation_submit(owner=request.user, **params)
        return job_response(request, job, status_code=status.HTTP_201_CREATED)


class DescribeView(APIView):
    permission_classes = [IsAuthenticated]  # limits: the service's hourly quotas and queue cap

    @extend_schema(
        summary="Start a grounded description of a condition, or a comparison of two",
        description="The top-k captions are retrieved now (see the preview, whose `weak` says when they "
        "match the request only weakly); when every answer is already cached the job is returned finished.",
        request=DescribeStartSerializer,
        responses={201: JobSerializer, 400: ERROR, 401: ERROR, 409: ERROR, 429: ERROR, 503: ERROR},
    )
    def post(self, request: Request) -> Response:
        data = validated(DescribeStartSerializer, request.data)
        job = services.description_submit(
            owner=request.user, queries=[data["q"], data["q2"]], k=data["k"], unless_weak=data["unless_weak"]
        )
        return job_response(request, job, status_code=status.HTTP_201_CREATED)


class DescribePreviewView(APIView):
    permission_classes = [IsAuthenticated]
    throttle_scope = "search"

    @extend_schema(
        summary="The captions a description would be grounded in (nothing is started)",
        parameters=[DescribeSerializer],
        responses={200: PreviewSerializer(many=True), 400: ERROR, 401: ERROR, 429: ERROR},
    )
    def get(self, request: Request) -> Response:
        data = validated(DescribeSerializer, request.query_params)
        previews = selectors.description_preview(queries=[data["q"], data["q2"]], k=data["k"])
        return Response(PreviewSerializer(previews, many=True, context={"request": request}).data)


class JobPagination(Pagination):
    page_size = selectors.JOBS_PAGE


class ImagePagination(Pagination):
    page_size = selectors.IMAGES_PAGE


class JobListView(ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = JobSerializer
    pagination_class = JobPagination

    def get_queryset(self):
        return selectors.jobs_for_user(self.request.user)

    @extend_schema(
        summary="Your jobs (generations and descriptions), newest first",
        responses={200: JobSerializer(many=True), 401: ERROR},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


class JobDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="A job's status: progress, attempts, notices, queue position, error (owner)",
        responses={200: JobSerializer, **JOB_ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        return job_response(request, selectors.job_get_for_user(request.user, pk))


class JobCancelView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Cancel a job (owner): a queued one at once, a running one at its worker's next step",
        request=None,
        responses={200: JobSerializer, 409: ERROR, **JOB_ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        job = services.job_cancel(job=selectors.job_get_for_user(request.user, pk))
        return job_response(request, job)


NO_RESULT = {
    Job.QUEUED: "This job is still queued; it has no result yet.",
    Job.RUNNING: "This job is still running; it has no result yet.",
    Job.CANCELLED: "This job was cancelled; it has no result.",
}


class JobResultView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="What a finished job made (owner): its images with their generation metadata, or its "
        "descriptions with their numbered sources and prompt",
        description="409 while the job is queued or running, and for a failed or cancelled job.",
        responses={200: JobResultSerializer, 409: ERROR, **JOB_ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        job = selectors.job_get_for_user(request.user, pk)
        if job.status == Job.FAILED:
            raise UserError(f"This job failed: {job.error}", status=409)
        if job.status != Job.SUCCEEDED:
            raise UserError(NO_RESULT[job.status], status=409)
        body = {
            "job": job,
            "images": selectors.job_images(job, request.user) if job.kind == Job.GENERATE else [],
            "descriptions": selectors.job_descriptions(job, request.user) if job.kind == Job.DESCRIBE else [],
        }
        return Response(JobResultSerializer(body, context={"request": request}).data)


class GeneratedImageListView(ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = GeneratedImageSerializer
    pagination_class = ImagePagination

    def get_queryset(self):
        return selectors.generated_images_for_user(self.request.user)

    @extend_schema(
        summary="Your generated images in any moderation state, newest first",
        responses={200: GeneratedImageSerializer(many=True), 401: ERROR},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)
