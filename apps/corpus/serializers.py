from rest_framework import serializers

from apps.corpus.models import Image


class ImageSerializer(serializers.ModelSerializer):
    """An image with everything needed to cite it."""

    dataset = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    dataset_name = serializers.CharField(source="dataset.name", read_only=True)
    image_url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()
    page_url = serializers.SerializerMethodField()
    # Empty in the database when a source has none; null in JSON rather than an invalid "" URL.
    article_url = serializers.SerializerMethodField()
    source_url = serializers.SerializerMethodField()

    class Meta:
        model = Image
        fields = [
            "id",
            "external_id",
            "dataset",
            "dataset_name",
            "split",
            "caption",
            "modality",
            "licence",
            "licence_raw",
            "attribution",
            "pmc_id",
            "article_url",
            "source_url",
            "keywords",
            "cuis",
            "is_synthetic",
            "moderation_state",
            "width",
            "height",
            "image_url",
            "thumbnail_url",
            "page_url",
        ]
        read_only_fields = fields

    def _absolute(self, url: str | None) -> str | None:
        request = self.context.get("request")
        if not url:
            return None
        return request.build_absolute_uri(url) if request else url

    def get_image_url(self, image: Image) -> str | None:
        return self._absolute(image.file.url if image.file else None)

    def get_thumbnail_url(self, image: Image) -> str | None:
        return self._absolute(image.thumbnail.url if image.thumbnail else None)

    def get_article_url(self, image: Image) -> str | None:
        return image.article_url or None

    def get_source_url(self, image: Image) -> str | None:
        return image.source_url or None

    def get_page_url(self, image: Image) -> str:
        from django.urls import reverse

        return self._absolute(reverse("corpus:image_detail", args=[image.pk]))
