from rest_framework import serializers

from portal.models import Industry, Region, ServiceArea, Specialty, User


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["code", "name", "level", "parent"]


class IndustrySerializer(serializers.ModelSerializer):
    class Meta:
        model = Industry
        fields = ["code", "name", "name_en", "level", "parent"]


class ServiceAreaSerializer(serializers.ModelSerializer):
    class Meta:
        model = ServiceArea
        fields = ["code", "name", "name_en", "description", "active"]


class SpecialtySerializer(serializers.ModelSerializer):
    class Meta:
        model = Specialty
        fields = ["code", "name", "name_en", "service_areas"]


class MeSerializer(serializers.ModelSerializer):
    region = RegionSerializer(read_only=True)
    role = serializers.CharField(source="effective_role", read_only=True)

    class Meta:
        model = User
        fields = ["username", "full_name", "role", "region", "organisation"]
